// A batch of a backup's mappings, each linked to its entity and its technique (both must exist).
UNWIND $rows AS row
CALL (row) {
  WITH row WHERE row.entity.label = 'Alert'
  MATCH (e:Alert {tenant: row.entity.tenant, id: row.entity.id}) RETURN e
  UNION
  WITH row WHERE row.entity.label = 'Incident'
  MATCH (e:Incident {tenant: row.entity.tenant, id: row.entity.id}) RETURN e
  UNION
  WITH row WHERE row.entity.label = 'Observable'
  MATCH (e:Observable {tenant: row.entity.tenant, id: row.entity.id}) RETURN e
}
MATCH (t:AttackObject {stix_id: row.technique})
CREATE (e)-[:HAS_MAPPING]->(m:Mapping)-[:MAPS_TO]->(t)
SET m = row.plain
@restore-props(m)
RETURN count(m) AS restored
