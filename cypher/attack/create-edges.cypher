UNWIND $rows AS row
MATCH (a:AttackObject {stix_id: row.source})
MATCH (b:AttackObject {stix_id: row.target})
CREATE (a)-[r:$(row.type)]->(b)
SET r = row.props, r.created = datetime(row.created), r.modified = datetime(row.modified)
