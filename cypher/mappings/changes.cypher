// The tenant's mappings that a release moved or made stale.
MATCH (m:Mapping)
WHERE m.tenant = $tenant AND (m.original_technique_id IS NOT NULL OR m.stale = true)
  AND ($kind IS NULL OR m.kind = $kind)
WITH m ORDER BY m.updated_at DESC, m.id
WITH collect(m.id) AS ids
RETURN size(ids) AS count, ids[$offset..($offset + $limit)] AS ids
