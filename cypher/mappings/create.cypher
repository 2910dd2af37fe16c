// Creates each row's mapping on its (already upserted) entity: the same tenant + entity +
// technique + tactic is one mapping, answered again when it exists. Edges and the audit event
// are created only with the mapping, so no MERGE of relationships is needed.
UNWIND $rows AS row
MATCH (e) WHERE elementId(e) = row.entity
MATCH (t:AttackObject {stix_id: row.techniqueStixId})
MERGE (m:Mapping {tenant: $tenant, key: row.key})
ON CREATE SET m += row.mapping, m.created_at = datetime($now), m.updated_at = datetime($now),
              m.occurred_at = datetime(row.occurredAt), m.guards = e.guards
// The row whose fresh id the mapping carries is the one that created it.
WITH row, e, t, m, m.id = row.mapping.id AS created
FOREACH (_ IN CASE WHEN created THEN [1] ELSE [] END |
  CREATE (e)-[:HAS_MAPPING]->(m)
  CREATE (m)-[:MAPS_TO]->(t)
  CREATE (m)-[:HAS_EVENT]->(:MappingEvent {id: row.eventId, tenant: $tenant, mapping_id: m.id,
          action: 'created', actor: $actor, at: datetime($now), changes: row.changes,
          guards: m.guards}))
RETURN row.index AS index, m.id AS id, created
