// The incidents and alerts that new entities name as parents and that do not exist yet, made as
// upsert-entities makes them (MERGE: another request may make the same parent meanwhile).
UNWIND $parents AS p
CALL (p) {
  WITH p WHERE p.label = 'Incident'
  MERGE (x:Incident {tenant: $tenant, id: p.id})
  ON CREATE SET x.created_by = $actor, x.created_at = datetime($now)
  UNION
  WITH p WHERE p.label = 'Alert'
  MERGE (x:Alert {tenant: $tenant, id: p.id})
  ON CREATE SET x.created_by = $actor, x.created_at = datetime($now)
}
RETURN count(*) AS parents
