// The audit trail of one entity of the tenant: its creation and every deliberate change.
MATCH (e:EntityEvent)
WHERE e.tenant = $tenant AND e.kind = $kind AND e.entity_id = $id
RETURN e {.id, .action, .actor, at: toString(e.at), .changes} AS event
ORDER BY e.at, e.id
