// The audit trail of one entity of the tenant: its creation and every deliberate change; nothing
// when the caller may not read the entity. One branch per static label (index).
CALL () {
  UNWIND CASE WHEN $kind = 'alert' THEN [$id] ELSE [] END AS id
  MATCH (x:Alert {tenant: $tenant, id: id})
  RETURN x
  UNION
  UNWIND CASE WHEN $kind = 'incident' THEN [$id] ELSE [] END AS id
  MATCH (x:Incident {tenant: $tenant, id: id})
  RETURN x
  UNION
  UNWIND CASE WHEN $kind = 'observable' THEN [$id] ELSE [] END AS id
  MATCH (x:Observable {tenant: $tenant, id: id})
  RETURN x
}
WITH x WHERE @readable(x)
MATCH (e:EntityEvent)
WHERE e.tenant = $tenant AND e.kind = $kind AND e.entity_id = $id
RETURN e {.id, .action, .actor, at: toString(e.at), .changes} AS event
ORDER BY e.at, e.id
