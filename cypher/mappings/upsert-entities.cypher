// Upserts the distinct entities of one request in the caller's tenant, with their parent links;
// answers each entity's element id so the mapping statement finds it without another lookup.
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
SET e += row.props
WITH e, row
CALL (e, row) {
  WITH e, row WHERE row.incidentId IS NOT NULL AND row.label <> 'Incident'
  MERGE (i:Incident {tenant: $tenant, id: row.incidentId})
  MERGE (e)-[:PART_OF]->(i)
}
CALL (e, row) {
  WITH e, row WHERE row.alertId IS NOT NULL AND row.label = 'Observable'
  MERGE (a:Alert {tenant: $tenant, id: row.alertId})
  MERGE (e)-[:PART_OF]->(a)
}
RETURN row.id AS id, elementId(e) AS element
