// A batch of a backup's audit events; a mapping's events are linked to it again.
UNWIND $rows AS row
CALL (row) {
  WITH row WHERE row.label = 'MappingEvent'
  CREATE (n:MappingEvent) RETURN n
  UNION
  WITH row WHERE row.label = 'EntityEvent'
  CREATE (n:EntityEvent) RETURN n
}
SET n = row.plain
@restore-props(n)
WITH row, n
OPTIONAL MATCH (m:Mapping {id: row.mapping})
FOREACH (x IN CASE WHEN m IS NULL THEN [] ELSE [m] END | CREATE (x)-[:HAS_EVENT]->(n))
RETURN count(n) AS restored
