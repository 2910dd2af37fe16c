// A batch of a backup's entities, created with their properties (parents come after all of them).
UNWIND $rows AS row
CALL (row) {
  WITH row WHERE row.label = 'Alert'
  CREATE (n:Alert) RETURN n
  UNION
  WITH row WHERE row.label = 'Incident'
  CREATE (n:Incident) RETURN n
  UNION
  WITH row WHERE row.label = 'Observable'
  CREATE (n:Observable) RETURN n
}
SET n = row.plain
@restore-props(n)
RETURN count(n) AS restored
