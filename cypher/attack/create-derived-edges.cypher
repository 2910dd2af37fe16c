// A reference to an object the graph does not hold (MITRE's data has a few) makes no edge.
UNWIND $rows AS row
MATCH (a:AttackObject {stix_id: row.from})
MATCH (b:AttackObject {stix_id: row.to})
CREATE (a)-[r:$(row.type)]->(b)
SET r = row.props, r.derived = true
