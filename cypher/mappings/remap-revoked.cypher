// After a release: every mapping on a now-revoked technique moves to the active technique at
// the end of its REVOKED_BY chain, keeping the technique it was made with. Idempotent.
MATCH (m:Mapping)-[old:MAPS_TO]->(t:Technique)
WHERE t.revoked
MATCH chain = (t)-[:REVOKED_BY*1..20]->(active:Technique)
WHERE NOT active.revoked AND NOT (active)-[:REVOKED_BY]->()
WITH m, old, t, active ORDER BY length(chain) DESC
WITH m, head(collect({old: old, t: t, active: active})) AS move
WITH m, move.old AS old, move.t AS t, move.active AS active
DELETE old
MERGE (m)-[:MAPS_TO]->(active)
SET m.original_technique_id = coalesce(m.original_technique_id, m.technique_id),
    m.technique_id = active.attack_id, m.technique_stix_id = active.stix_id,
    m.remapped_at = datetime($now), m.updated_at = datetime($now)
CREATE (m)-[:HAS_EVENT]->(:MappingEvent {id: randomUUID(), tenant: m.tenant, mapping_id: m.id,
        action: 'remapped', actor: 'system', at: datetime($now),
        changes: '{"technique":{"from":"' + coalesce(t.attack_id, t.stix_id) + '","to":"' + coalesce(active.attack_id, active.stix_id) + '"}}',
        guards: m.guards})
RETURN count(m) AS remapped
