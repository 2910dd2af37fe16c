// A technique and, on request, its sub-techniques: the STIX ids a mapping filter matches.
MATCH (t:Technique)
WHERE t.stix_id = $id OR t.attack_id = $id
OPTIONAL MATCH (s:Technique)-[:SUBTECHNIQUE_OF]->(t)
WHERE $withSubtechniques
RETURN collect(DISTINCT t.stix_id) + collect(DISTINCT s.stix_id) AS ids
