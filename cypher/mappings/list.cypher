// One page of a tenant's mappings of one kind, newest first, with the total. The match starts
// from the most selective index the filters allow: technique, then entity, then tenant + kind.
CALL () {
  WITH * WHERE $techniques IS NOT NULL
  UNWIND $techniques AS sid
  MATCH (m:Mapping {tenant: $tenant, technique_stix_id: sid})
  WHERE m.kind = $kind
  RETURN m
  UNION
  WITH * WHERE $techniques IS NULL AND $entityId IS NOT NULL
  MATCH (m:Mapping {tenant: $tenant, kind: $kind, entity_id: $entityId})
  RETURN m
  UNION
  WITH * WHERE $techniques IS NULL AND $entityId IS NULL
  MATCH (m:Mapping {tenant: $tenant, kind: $kind})
  RETURN m
}
WITH m
WHERE m.tenant = $tenant AND m.kind = $kind
  AND ($entityId IS NULL OR m.entity_id = $entityId)
  AND ($tactic IS NULL OR m.tactic = $tactic)
  AND ($source IS NULL OR m.source = $source)
  AND ($minConfidence IS NULL OR m.confidence >= $minConfidence)
  AND ($createdAfter IS NULL OR m.created_at >= datetime($createdAfter))
  AND ($createdBefore IS NULL OR m.created_at < datetime($createdBefore))
  AND ($occurredAfter IS NULL OR m.occurred_at >= datetime($occurredAfter))
  AND ($occurredBefore IS NULL OR m.occurred_at < datetime($occurredBefore))
  AND ($stale IS NULL OR coalesce(m.stale, false) = $stale)
WITH m ORDER BY m.created_at DESC, m.id
WITH collect(m.id) AS ids
RETURN size(ids) AS count, ids[$offset..($offset + $limit)] AS ids
