// How many mappings and distinct entities of a kind the window holds (as dashboard-breakdown).
MATCH (m:Mapping)
WHERE m.tenant IN $tenants AND m.kind = $entity AND @readable(m)
WITH m, coalesce(m.occurred_at, m.created_at) AS at
WHERE ($from IS NULL OR at >= datetime($from)) AND ($to IS NULL OR at < datetime($to))
RETURN count(m) AS mappings, count(DISTINCT m.tenant + '|' + m.entity_id) AS entities
