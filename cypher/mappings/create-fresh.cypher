// A request's new entities with their mappings and the creation events of both, created outright
// as a bare UNWIND … CREATE would: this transaction's read found none of the entities, so nothing
// is merged, and their mappings cannot exist (a mapping's key names its entity). A concurrent
// request that creates one of them first makes this statement fail on the uniqueness constraints,
// and the service runs the request again, when the entity exists. Only entities with no
// restriction involved come here (their guards stay null); their parents exist (create-parents);
// each mapping is the first item of its key. Parents are read before anything is written,
// properties are spelled out (those planMappings gives) and nothing is returned per row: so the
// plan has a single Eager, between the reads and the writes.
UNWIND $entities AS row
OPTIONAL MATCH (i:Incident {tenant: $tenant, id: row.incidentId})
OPTIONAL MATCH (a:Alert {tenant: $tenant, id: row.alertId})
CALL (row) {
  WITH row WHERE row.label = 'Alert'
  CREATE (e:Alert {tenant: $tenant, id: row.id, title: row.props.title,
                   severity: row.props.severity, status: row.props.status,
                   created_by: $actor, created_at: datetime($now)})
  RETURN e
  UNION
  WITH row WHERE row.label = 'Incident'
  CREATE (e:Incident {tenant: $tenant, id: row.id, title: row.props.title,
                      severity: row.props.severity, status: row.props.status,
                      created_by: $actor, created_at: datetime($now)})
  RETURN e
  UNION
  WITH row WHERE row.label = 'Observable'
  CREATE (e:Observable {tenant: $tenant, id: row.id, type: row.props.type,
                        value: row.props.value, created_by: $actor, created_at: datetime($now)})
  RETURN e
}
CREATE (:EntityEvent {id: row.event.id, tenant: $tenant, kind: row.kind, entity_id: row.id,
        action: 'created', actor: $actor, at: datetime($now), changes: row.event.changes})
FOREACH (p IN CASE WHEN i IS NULL THEN [] ELSE [i] END | CREATE (e)-[:PART_OF]->(p))
FOREACH (p IN CASE WHEN a IS NULL THEN [] ELSE [a] END | CREATE (e)-[:PART_OF]->(p))
WITH row, e
UNWIND row.mappings AS r
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
