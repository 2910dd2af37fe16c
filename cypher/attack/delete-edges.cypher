// Located between both ends: Neo4j expands from the end with fewer relationships (a data
// component has hundreds of `detects` edges, the analytic at the other end a handful).
UNWIND $rows AS row
MATCH (a:AttackObject {stix_id: row.source})
MATCH (b:AttackObject {stix_id: row.target})
MATCH (a)-[r]->(b)
WHERE r.stix_id = row.id
DELETE r
