// Fragment, included as @fresh-entity(e) right after a create-fresh-* statement creates entity e of
// `row`: its creation event, then its mappings (the first item of each key) with theirs. Reads
// come before writes in those statements, properties are spelled out (those planMappings gives)
// and nothing is returned per row: so their plans have no Eager.
CREATE (:EntityEvent {id: row.event.id, tenant: $tenant, kind: row.kind, entity_id: row.id,
        action: 'created', actor: $actor, at: datetime($now), changes: row.event.changes})
WITH row, <x>
UNWIND row.mappings AS r
MATCH (t:AttackObject {stix_id: r.techniqueStixId})
CREATE (<x>)-[:HAS_MAPPING]->(m:Mapping {
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
