// A tenant's mappings of one entity kind within a window (occurred_at, else when mapped), counted
// per tactic, technique (sub-techniques rolled up) or sub-technique, and per time bucket when one
// is asked for: how many distinct entities and mappings. $tenants: the tenant, or every tenant (a
// superuser's view). Mappings are grouped by technique first, so each technique's key is found
// once, not once per mapping.
MATCH (m:Mapping)
WHERE m.tenant IN $tenants AND m.kind = $entity AND @readable(m)
WITH m, coalesce(m.occurred_at, m.created_at) AS at
WHERE ($from IS NULL OR at >= datetime($from)) AND ($to IS NULL OR at < datetime($to))
MATCH (m)-[:MAPS_TO]->(t:Technique)
WITH t, m.tactic AS named,
     CASE $bucket WHEN 'day' THEN date(at) WHEN 'week' THEN date.truncate('week', at) END AS bucket,
     collect(m.tenant + '|' + m.entity_id) AS entities
CALL (t, named) {
  MATCH (t)-[:IN_TACTIC]->(ta:Tactic)
  WHERE $by = 'tactic' AND (named IS NULL OR ta.shortname = named)
  RETURN DISTINCT ta.shortname AS key, ta.name AS name
  UNION
  OPTIONAL MATCH (t)-[:SUBTECHNIQUE_OF]->(p:Technique)
  WITH t, p WHERE $by = 'technique'
  RETURN coalesce(p.attack_id, t.attack_id) AS key, coalesce(p.name, t.name) AS name
  UNION
  WITH t WHERE $by = 'sub-technique'
  RETURN t.attack_id AS key, t.name AS name
}
WITH key, name, bucket, collect(entities) AS lists
RETURN key, name, toString(bucket) AS bucket,
       COUNT { UNWIND lists AS l UNWIND l AS e RETURN DISTINCT e } AS entities,
       reduce(n = 0, l IN lists | n + size(l)) AS mappings
