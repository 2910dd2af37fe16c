MATCH (e:MappingEvent)
WHERE e.tenant = $tenant AND e.mapping_id = $id
RETURN e {.id, .action, .actor, at: toString(e.at), .changes} AS event
ORDER BY e.at, e.id
