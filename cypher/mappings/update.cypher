// A partial update of one mapping of the tenant; the technique edge follows technique_stix_id.
MATCH (m:Mapping {id: $id})
WHERE m.tenant = $tenant
SET m += $changes, m.updated_at = datetime($now)
SET m.occurred_at = CASE WHEN $occurredAt IS NULL THEN m.occurred_at ELSE datetime($occurredAt) END
WITH m
CALL (m) {
  WITH m WHERE $techniqueStixId IS NOT NULL
  MATCH (m)-[old:MAPS_TO]->()
  DELETE old
  WITH m
  MATCH (t:AttackObject {stix_id: $techniqueStixId})
  MERGE (m)-[:MAPS_TO]->(t)
}
CREATE (m)-[:HAS_EVENT]->(:MappingEvent {id: $eventId, tenant: $tenant, mapping_id: m.id,
        action: 'updated', actor: $actor, at: datetime($now), changes: $diff,
        guards: m.guards})
RETURN m.id AS id
