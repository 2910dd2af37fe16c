// The next-step model as the service scores with it: every technique not revoked (its ATT&CK id,
// name, parent technique, tactics in matrix order), and per granularity its popularity (0 when no
// actor uses it) and its learnt SUGGESTS weights.
MATCH (t:Technique)
WHERE NOT coalesce(t.revoked, false) AND t.attack_id IS NOT NULL
RETURN t.stix_id AS id, t.attack_id AS attackId, t.name AS name,
       @active-parent(t) AS parent,
       {`sub-technique`: coalesce(t.suggest_prior, 0.0),
        technique: coalesce(t.suggest_prior_technique, 0.0),
        mixed: coalesce(t.suggest_prior_mixed, 0.0)} AS prior,
       COLLECT {
         MATCH (t)-[:IN_TACTIC]->(ta:Tactic)<-[h:HAS_TACTIC]-(mx:Matrix)
         WHERE NOT coalesce(mx.revoked, false) AND NOT coalesce(mx.deprecated, false)
         RETURN {tactic: ta.shortname, matrix: mx.name, order: h.order} ORDER BY h.order
       } AS tactics,
       {
         `sub-technique`: COLLECT {
           MATCH (t)-[s:SUGGESTS {granularity: 'sub-technique'}]->(b:Technique)
           RETURN {to: b.stix_id, weight: s.weight} ORDER BY s.weight DESC
         },
         technique: COLLECT {
           MATCH (t)-[s:SUGGESTS {granularity: 'technique'}]->(b:Technique)
           RETURN {to: b.stix_id, weight: s.weight} ORDER BY s.weight DESC
         },
         mixed: COLLECT {
           MATCH (t)-[s:SUGGESTS {granularity: 'mixed'}]->(b:Technique)
           RETURN {to: b.stix_id, weight: s.weight} ORDER BY s.weight DESC
         }
       } AS suggests
ORDER BY id
