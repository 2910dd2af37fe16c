// Deletes one mapping of the tenant; its audit trail stays (readable by mapping id).
MATCH (m:Mapping {id: $id})
WHERE m.tenant = $tenant
CREATE (:MappingEvent {id: $eventId, tenant: $tenant, mapping_id: m.id, action: 'deleted',
        actor: $actor, at: datetime($now), changes: $diff, guards: m.guards})
WITH m
OPTIONAL MATCH (m)-[:HAS_EVENT]->(e)
DETACH DELETE m
RETURN count(*) AS deleted
