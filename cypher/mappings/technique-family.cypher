// A technique and, on request, its sub-techniques: the STIX ids a mapping filter matches.
CALL () {
  MATCH (t:AttackObject {stix_id: $id}) WHERE t:Technique RETURN t
  UNION
  MATCH (t:AttackObject {attack_id: $id}) WHERE t:Technique RETURN t
}
OPTIONAL MATCH (s:Technique)-[:SUBTECHNIQUE_OF]->(t)
WHERE $withSubtechniques
RETURN collect(DISTINCT t.stix_id) + collect(DISTINCT s.stix_id) AS ids
