// Every read of mappings: one page of the tenant's mappings with the total, each with its
// technique and parent links. The match starts from the most selective anchor the caller gives
// (ids, technique family, entity, tenant + kind) so one statement and one
// round trip answer a list, a detail, a bulk response and mapping-changes alike.
// Guards are written as empty UNWINDs and null seek values, not `WITH * WHERE $param ...`: the
// planner runs a branch's index seek before such a filter, so every branch would run.
CALL () {
  UNWIND coalesce($ids, []) AS id
  MATCH (m:Mapping {id: id})
  USING INDEX m:Mapping(id)
  WHERE m.tenant = $tenant
  RETURN m
  UNION
  UNWIND CASE WHEN $ids IS NULL AND $technique IS NOT NULL THEN [$technique] ELSE [] END AS given
  CALL (given) {
    MATCH (t:AttackObject {stix_id: given}) WHERE t:Technique RETURN t
    UNION
    MATCH (t:AttackObject {attack_id: given}) WHERE t:Technique RETURN t
  }
  CALL (t) {
    RETURN t.stix_id AS sid
    UNION
    MATCH (s:Technique)-[:SUBTECHNIQUE_OF]->(t) WHERE $includeSubtechniques RETURN s.stix_id AS sid
  }
  MATCH (m:Mapping {tenant: $tenant, technique_stix_id: sid})
  USING INDEX m:Mapping(tenant, technique_stix_id)
  RETURN m
  UNION
  UNWIND CASE WHEN $ids IS NULL AND $technique IS NULL AND $entityId IS NOT NULL
              THEN [$entityId] ELSE [] END AS entityId
  MATCH (m:Mapping {tenant: $tenant, kind: $kind, entity_id: entityId})
  USING INDEX m:Mapping(tenant, kind, entity_id)
  RETURN m
  UNION
  UNWIND CASE WHEN $ids IS NOT NULL OR $technique IS NOT NULL OR $entityId IS NOT NULL THEN []
              WHEN $kind IS NULL THEN ['alert', 'incident', 'observable']
              ELSE [$kind] END AS kind
  MATCH (m:Mapping {tenant: $tenant, kind: kind})
  USING INDEX m:Mapping(tenant, kind)
  RETURN m
}
WITH m
WHERE m.tenant = $tenant
  AND ($kind IS NULL OR m.kind = $kind)
  AND ($entityId IS NULL OR m.entity_id = $entityId)
  AND ($tactics IS NULL OR m.tactic IN $tactics)
  AND ($sources IS NULL OR m.source IN $sources)
  AND ($minConfidence IS NULL OR m.confidence >= $minConfidence)
  AND ($createdAfter IS NULL OR m.created_at >= datetime($createdAfter))
  AND ($createdBefore IS NULL OR m.created_at < datetime($createdBefore))
  AND ($occurredAfter IS NULL OR m.occurred_at >= datetime($occurredAfter))
  AND ($occurredBefore IS NULL OR m.occurred_at < datetime($occurredBefore))
  AND ($stale IS NULL OR coalesce(m.stale, false) = $stale)
  AND (NOT $changed OR m.original_technique_id IS NOT NULL OR m.stale = true)
  // Only what the caller may read, before the page is cut: counts never include the rest.
  AND @readable(m)
// Newest first; mapping-changes orders by the last change instead.
WITH m ORDER BY CASE WHEN $changed THEN m.updated_at ELSE m.created_at END DESC, m.id
WITH collect(m) AS matched
CALL (matched) {
  UNWIND matched[$offset..($offset + $limit)] AS m
  MATCH (m)-[:MAPS_TO]->(t:Technique)
  // One row per mapping whatever links its entity has: a page never exceeds $limit.
  OPTIONAL MATCH (e)-[:HAS_MAPPING]->(m)
  RETURN collect({
    mapping: m {.*, created_at: toString(m.created_at), updated_at: toString(m.updated_at),
                occurred_at: toString(m.occurred_at)},
    technique: t {id: t.attack_id, .stix_id, .name, .revoked, .deprecated},
    incidentId: head(COLLECT { MATCH (e)-[:PART_OF]->(i:Incident) RETURN i.id AS id ORDER BY id }),
    alertId: head(COLLECT { MATCH (e)-[:PART_OF]->(a:Alert) RETURN a.id AS id ORDER BY id })}) AS results
}
RETURN size(matched) AS count, results
