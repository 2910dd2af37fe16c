UNWIND $ids AS id
MATCH (n:AttackObject {stix_id: id})
RETURN n.stix_id AS id
