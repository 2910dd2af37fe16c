// Creates the request's new entities and applies the changes decided for existing ones (only
// those their editor asked for), with parent links and an audit event per created or changed
// entity; answers each entity's element id so the mapping statement finds it without a lookup.
UNWIND $entities AS row
CALL (row) {
  // Static labels, one branch per kind: MERGE on a dynamic label cannot use the (tenant, id) index.
  WITH row WHERE row.label = 'Alert'
  MERGE (e:Alert {tenant: $tenant, id: row.id})
  RETURN e
  UNION
  WITH row WHERE row.label = 'Incident'
  MERGE (e:Incident {tenant: $tenant, id: row.id})
  RETURN e
  UNION
  WITH row WHERE row.label = 'Observable'
  MERGE (e:Observable {tenant: $tenant, id: row.id})
  RETURN e
}
// A concurrent request may have created the entity since it was read: then it is left as it is.
WITH row, e, e.created_at IS NULL AS fresh
SET e += CASE WHEN fresh OR NOT row.create THEN row.props ELSE {} END,
    e.created_by = coalesce(e.created_by, $actor),
    e.created_at = coalesce(e.created_at, datetime($now))
WITH row, e, fresh OR NOT row.create AS apply
CALL (e, row, apply) {
  WITH e, row WHERE apply AND row.incidentId IS NOT NULL AND row.label <> 'Incident'
  OPTIONAL MATCH (e)-[old:PART_OF]->(:Incident)
  DELETE old
  WITH DISTINCT e, row
  MERGE (i:Incident {tenant: $tenant, id: row.incidentId})
  ON CREATE SET i.created_by = $actor, i.created_at = datetime($now)
  MERGE (e)-[:PART_OF]->(i)
}
CALL (e, row, apply) {
  WITH e, row WHERE apply AND row.alertId IS NOT NULL AND row.label = 'Observable'
  OPTIONAL MATCH (e)-[old:PART_OF]->(:Alert)
  DELETE old
  WITH DISTINCT e, row
  MERGE (a:Alert {tenant: $tenant, id: row.alertId})
  ON CREATE SET a.created_by = $actor, a.created_at = datetime($now)
  MERGE (e)-[:PART_OF]->(a)
}
CALL (e, row, apply) {
  WITH e, row WHERE apply AND row.event IS NOT NULL
  CREATE (:EntityEvent {id: row.event.id, tenant: $tenant, kind: row.kind, entity_id: row.id,
          action: row.event.action, actor: $actor, at: datetime($now), changes: row.event.changes})
}
RETURN row.id AS id, elementId(e) AS element
