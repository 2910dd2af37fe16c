// A matrix as a UI draws it: its tactics in kill-chain order, each with its active techniques
// (by name) and, under each, the active sub-techniques that are in that tactic too.
MATCH (m:Matrix {stix_id: $stixId})-[h:HAS_TACTIC]->(t:Tactic)
WITH t, h ORDER BY h.order
CALL (t) {
  MATCH (tech:Technique)-[:IN_TACTIC]->(t)
  WHERE NOT coalesce(tech.is_subtechnique, false) AND NOT coalesce(tech.revoked, false)
    AND NOT coalesce(tech.deprecated, false) AND tech.removed IS NULL
  WITH tech ORDER BY tech.name, tech.attack_id
  RETURN collect(tech {id: tech.attack_id, .stix_id, .name,
    subtechniques: COLLECT {
      MATCH (s:Technique)-[:SUBTECHNIQUE_OF]->(tech)
      WHERE (s)-[:IN_TACTIC]->(t) AND NOT coalesce(s.revoked, false)
        AND NOT coalesce(s.deprecated, false) AND s.removed IS NULL
      WITH s ORDER BY s.attack_id
      RETURN s {id: s.attack_id, .stix_id, .name}
    }}) AS techniques
}
RETURN collect({tactic: t {id: t.attack_id, .stix_id, .name, .shortname}, techniques: techniques})
       AS columns
