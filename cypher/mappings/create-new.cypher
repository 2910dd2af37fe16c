// The mappings of the entities create-entities just made, created outright (they cannot exist:
// their key names the entity), the first row of each key only, with their creation event. Reads
// first, then writes, properties spelled out, nothing returned per row: no Eager in the plan.
UNWIND $rows AS r
CALL (r) {
  WITH r WHERE r.label = 'Alert'
  MATCH (e:Alert {tenant: $tenant, id: r.entityId}) RETURN e
  UNION
  WITH r WHERE r.label = 'Incident'
  MATCH (e:Incident {tenant: $tenant, id: r.entityId}) RETURN e
  UNION
  WITH r WHERE r.label = 'Observable'
  MATCH (e:Observable {tenant: $tenant, id: r.entityId}) RETURN e
}
MATCH (t:AttackObject {stix_id: r.techniqueStixId})
CREATE (e)-[:HAS_MAPPING]->(m:Mapping {
          tenant: $tenant, key: r.key, id: r.mapping.id, kind: r.mapping.kind,
          entity_id: r.mapping.entity_id, technique_id: r.mapping.technique_id,
          technique_stix_id: r.mapping.technique_stix_id,
          original_technique_id: r.mapping.original_technique_id, tactic: r.mapping.tactic,
          source: r.mapping.source, confidence: r.mapping.confidence,
          procedure: r.mapping.procedure, created_by: r.mapping.created_by,
          attack_version: r.mapping.attack_version, stale: r.mapping.stale,
          evidence: r.mapping.evidence, created_at: datetime($now), updated_at: datetime($now),
          occurred_at: datetime(r.occurredAt)})-[:MAPS_TO]->(t),
       (m)-[:HAS_EVENT]->(:MappingEvent {id: r.eventId, tenant: $tenant, mapping_id: r.mapping.id,
          action: 'created', actor: $actor, at: datetime($now), changes: r.changes})
RETURN count(*) AS created
