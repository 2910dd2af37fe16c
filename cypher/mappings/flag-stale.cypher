// Mappings on deprecated techniques are stale; on active ones they are not. Idempotent.
MATCH (m:Mapping)-[:MAPS_TO]->(t:Technique)
WITH m, t.deprecated AS deprecated
WHERE coalesce(m.stale, false) <> deprecated
SET m.stale = deprecated, m.updated_at = datetime($now)
CREATE (m)-[:HAS_EVENT]->(:MappingEvent {id: randomUUID(), tenant: m.tenant, mapping_id: m.id,
        action: CASE WHEN deprecated THEN 'flagged-stale' ELSE 'unflagged-stale' END,
        actor: 'system', at: datetime($now), changes: '{}', guards: m.guards})
RETURN count(m) AS changed
