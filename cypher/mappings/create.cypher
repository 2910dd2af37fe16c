// Upserts each row's entity (and its parent links) in the caller's tenant, then its mapping:
// the same tenant + entity + technique + tactic is one mapping, returned again when it exists.
UNWIND $rows AS row
CALL (row) {
  // Static labels, one branch per kind: MERGE on a dynamic label cannot use the (tenant, id) index.
  CALL (row) {
    WITH row WHERE row.label = 'Alert'
    MERGE (e:Alert {tenant: $tenant, id: row.entityId})
    RETURN e
    UNION
    WITH row WHERE row.label = 'Incident'
    MERGE (e:Incident {tenant: $tenant, id: row.entityId})
    RETURN e
    UNION
    WITH row WHERE row.label = 'Observable'
    MERGE (e:Observable {tenant: $tenant, id: row.entityId})
    RETURN e
  }
  SET e += row.entityProps
  WITH e
  CALL (e, row) {
    WITH e, row WHERE row.incidentId IS NOT NULL AND row.label <> 'Incident'
    MERGE (i:Incident {tenant: $tenant, id: row.incidentId})
    MERGE (e)-[:PART_OF]->(i)
  }
  CALL (e, row) {
    WITH e, row WHERE row.alertId IS NOT NULL AND row.label = 'Observable'
    MERGE (a:Alert {tenant: $tenant, id: row.alertId})
    MERGE (e)-[:PART_OF]->(a)
  }
  RETURN e
}
MATCH (t:AttackObject {stix_id: row.techniqueStixId})
MERGE (m:Mapping {tenant: $tenant, key: row.key})
ON CREATE SET m += row.mapping, m.created_at = datetime($now), m.updated_at = datetime($now),
              m.occurred_at = datetime(row.occurredAt)
MERGE (e)-[:HAS_MAPPING]->(m)
MERGE (m)-[:MAPS_TO]->(t)
// The row whose fresh id the mapping carries is the one that created it.
WITH row, m, m.id = row.mapping.id AS created
CALL (m, created, row) {
  WITH m, created, row WHERE created
  CREATE (m)-[:HAS_EVENT]->(:MappingEvent {id: row.eventId, tenant: $tenant, mapping_id: m.id,
          action: 'created', actor: $actor, at: datetime($now), changes: row.changes})
}
RETURN row.index AS index, m.id AS id, created
