// Mappings on deprecated techniques are stale; on active ones they are not. Idempotent. Read from
// the deprecated techniques and from the stale mappings (index mapping_stale), never from every
// tenant's mappings: with millions of them, a scan made each release's remap take 30 s. The hint
// is needed: a boolean has two values, so the planner takes `stale = true` for half the mappings.
CALL () {
  MATCH (t:Technique)
  WHERE t.deprecated
  MATCH (m:Mapping)-[:MAPS_TO]->(t)
  WHERE NOT coalesce(m.stale, false)
  RETURN m, true AS deprecated
  UNION
  MATCH (m:Mapping)
  USING INDEX m:Mapping(stale)
  WHERE m.stale = true
  MATCH (m)-[:MAPS_TO]->(t:Technique)
  WHERE NOT t.deprecated
  RETURN m, false AS deprecated
}
SET m.stale = deprecated, m.updated_at = datetime($now)
CREATE (m)-[:HAS_EVENT]->(:MappingEvent {id: randomUUID(), tenant: m.tenant, mapping_id: m.id,
        action: CASE WHEN deprecated THEN 'flagged-stale' ELSE 'unflagged-stale' END,
        actor: 'system', at: datetime($now), changes: '{}', guards: m.guards})
RETURN count(m) AS changed
