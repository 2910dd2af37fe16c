// One page of a tenant's mappings of one kind, newest first, with the total.
MATCH (m:Mapping)
WHERE m.tenant = $tenant AND m.kind = $kind
  AND ($entityId IS NULL OR m.entity_id = $entityId)
  AND ($techniques IS NULL OR m.technique_stix_id IN $techniques)
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
