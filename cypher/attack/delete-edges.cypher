UNWIND $rows AS row
MATCH (:AttackObject {stix_id: row.source})-[r]->()
WHERE r.stix_id = row.id
DELETE r
