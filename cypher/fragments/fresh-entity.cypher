// Fragment, included as @fresh-entity(e) right after a create-fresh-* statement creates entity e of
// `row` (one of $entities): its creation event; then, once every entity exists, the mappings
// ($mappings, each naming its entity by position in $entities) with theirs. Reads come before
// writes in those statements, properties are spelled out and nothing is returned per row: so
// their plans have no Eager. The mapping's technique fields are the matched technique's own (the
// active one, which the service resolved).
CREATE (:EntityEvent {id: row.eventId, tenant: $tenant, kind: $kind, entity_id: row.id,
        action: 'created', actor: $actor, at: datetime($now), changes: row.changes})
WITH collect(<x>) AS created
UNWIND $mappings AS r
WITH created[toInteger(r.entity)] AS <x>, r
MATCH (t:AttackObject {stix_id: r.stixId})
CREATE (<x>)-[:HAS_MAPPING]->(m:Mapping {
          tenant: $tenant, key: r.key, id: r.id, kind: $kind, entity_id: <x>.id,
          technique_id: t.attack_id, technique_stix_id: t.stix_id,
          original_technique_id: r.originalTechniqueId, tactic: r.tactic,
          source: r.source, confidence: r.confidence, procedure: r.procedure,
          created_by: $actor, attack_version: r.version, stale: t.deprecated,
          evidence: r.evidence, created_at: datetime($now), updated_at: datetime($now),
          occurred_at: datetime(r.occurredAt)})-[:MAPS_TO]->(t),
       (m)-[:HAS_EVENT]->(:MappingEvent {id: r.eventId, tenant: $tenant, mapping_id: r.id,
          action: 'created', actor: $actor, at: datetime($now), changes: r.changes})
RETURN count(*) AS created
