// Techniques per tactic in kill-chain order (the order of each active matrix's tactic_refs).
MATCH (m:Matrix)-[h:HAS_TACTIC]->(ta:Tactic)
WHERE NOT m.deprecated AND NOT m.revoked
OPTIONAL MATCH (t:Technique)-[:IN_TACTIC]->(ta)
WHERE NOT t.revoked AND NOT t.deprecated
RETURN m.attack_id AS domain, h.order AS position, ta.attack_id AS tacticId, ta.name AS tactic,
       ta.shortname AS shortname,
       count(CASE WHEN NOT t.is_subtechnique THEN 1 END) AS techniques,
       count(CASE WHEN t.is_subtechnique THEN 1 END) AS subtechniques
ORDER BY domain, position
