// The entities of one kind that already exist in the tenant, with their fields and parent links,
// so that a mapping request changes them only deliberately. One branch per static label (index).
CALL () {
  UNWIND CASE WHEN $label = 'Alert' THEN $ids ELSE [] END AS id
  MATCH (e:Alert {tenant: $tenant, id: id})
  RETURN e
  UNION
  UNWIND CASE WHEN $label = 'Incident' THEN $ids ELSE [] END AS id
  MATCH (e:Incident {tenant: $tenant, id: id})
  RETURN e
  UNION
  UNWIND CASE WHEN $label = 'Observable' THEN $ids ELSE [] END AS id
  MATCH (e:Observable {tenant: $tenant, id: id})
  RETURN e
}
RETURN e.id AS id, e {.title, .severity, .status, .type, .value} AS props,
       e.created_by AS createdBy,
       head(COLLECT { MATCH (e)-[:PART_OF]->(i:Incident) RETURN i.id AS id ORDER BY id }) AS incidentId,
       head(COLLECT { MATCH (e)-[:PART_OF]->(a:Alert) RETURN a.id AS id ORDER BY id }) AS alertId
