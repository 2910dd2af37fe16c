UNWIND $rows AS row
CREATE (n:AttackObject)
SET n = row.props, n.created = datetime(row.created), n.modified = datetime(row.modified)
SET n:$(row.labels)
