// The audit trail of one mapping of the tenant (kept after it is deleted), when the caller may
// read it: each event carries its mapping's guards.
MATCH (e:MappingEvent)
WHERE e.tenant = $tenant AND e.mapping_id = $id AND @readable(e)
RETURN e {.id, .action, .actor, at: toString(e.at), .changes} AS event
ORDER BY e.at, e.id
