// Which of the given STIX ids the graph holds (a restore's mappings need their techniques).
UNWIND $ids AS id
MATCH (t:AttackObject {stix_id: id})
RETURN collect(t.stix_id) AS present
