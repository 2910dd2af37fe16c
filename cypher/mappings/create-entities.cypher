// A request's new entities, created outright: this transaction's read found none of them, so
// nothing is merged (a concurrent request that creates one first makes this statement fail on the
// uniqueness constraints, and the service runs the request again, when the entity exists). Only
// entities with no restriction involved come here (their guards stay null); their parents exist
// (create-parents). Parents are read before anything is written, properties are spelled out (those
// planMappings gives) and nothing is returned per row: so the plan has a single Eager.
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
RETURN count(*) AS created
