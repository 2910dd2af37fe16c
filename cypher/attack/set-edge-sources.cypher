// Located between both ends, as in delete-edges.
UNWIND $rows AS row
MATCH (a:AttackObject {stix_id: row.source})
MATCH (b:AttackObject {stix_id: row.target})
MATCH (a)-[r]->(b)
WHERE r.stix_id = row.id
SET r.sources = row.sources, r.source_hashes = row.sourceHashes
