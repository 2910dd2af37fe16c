// A label's audit events in id order; a mapping's events name it.
CALL () {
  WITH 1 AS one WHERE $label = 'MappingEvent'
  MATCH (n:MappingEvent) WHERE n.id IS NOT NULL RETURN n
  UNION
  WITH 1 AS one WHERE $label = 'EntityEvent'
  MATCH (n:EntityEvent) WHERE n.id IS NOT NULL RETURN n
}
WITH n ORDER BY n.id
RETURN n.id AS id, @typed-props(n) AS props,
       [(m:Mapping)-[:HAS_EVENT]->(n) | m.id][0] AS mapping
