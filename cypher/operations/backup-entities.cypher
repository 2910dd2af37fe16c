// A label's entities in (tenant, id) order (the order of their uniqueness constraint's index),
// each with its parents.
CALL () {
  WITH 1 AS one WHERE $label = 'Alert'
  MATCH (n:Alert) WHERE n.tenant IS NOT NULL RETURN n
  UNION
  WITH 1 AS one WHERE $label = 'Incident'
  MATCH (n:Incident) WHERE n.tenant IS NOT NULL RETURN n
  UNION
  WITH 1 AS one WHERE $label = 'Observable'
  MATCH (n:Observable) WHERE n.tenant IS NOT NULL RETURN n
}
WITH n ORDER BY n.tenant, n.id
RETURN n.tenant AS tenant, n.id AS id, @typed-props(n) AS props,
       [(n)-[:PART_OF]->(p) | {id: p.id, label: head(labels(p))}] AS parents
