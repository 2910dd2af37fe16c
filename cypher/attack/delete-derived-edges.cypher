// Edges derived from these objects' own fields; they are rebuilt right after.
UNWIND $ids AS id
MATCH (:AttackObject {stix_id: id})-[r]->()
WHERE r.derived = true
DELETE r
