// Replaces every property; type labels that no longer apply (a sub-technique promoted) go.
UNWIND $rows AS row
MATCH (n:AttackObject {stix_id: row.id})
WITH n, row, [l IN labels(n) WHERE l <> 'AttackObject' AND NOT l IN row.labels] AS stale
SET n = row.props, n.created = datetime(row.created), n.modified = datetime(row.modified)
REMOVE n:$(stale)
SET n:$(row.labels)
