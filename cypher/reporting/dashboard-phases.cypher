// Incidents by the furthest kill-chain phase they reached (matrix order) through the mappings of
// the incident, its alerts and their observables within the window.
MATCH (i:Incident)
WHERE i.tenant IN $tenants
MATCH (x)-[:PART_OF]->{0,2}(i)
MATCH (x)-[:HAS_MAPPING]->(m:Mapping)-[:MAPS_TO]->(t:Technique)
WITH i, m, t, coalesce(m.occurred_at, m.created_at) AS at
WHERE ($from IS NULL OR at >= datetime($from)) AND ($to IS NULL OR at < datetime($to))
MATCH (t)-[:IN_TACTIC]->(ta:Tactic)<-[h:HAS_TACTIC]-(mx:Matrix)
WHERE (m.tactic IS NULL OR ta.shortname = m.tactic)
  AND NOT coalesce(mx.revoked, false) AND NOT coalesce(mx.deprecated, false)
WITH i, mx, ta, h
ORDER BY h.order DESC
WITH i, mx, head(collect({tactic: ta.shortname, name: ta.name, order: h.order})) AS furthest
RETURN mx.name AS matrix, furthest.tactic AS tactic, furthest.name AS name,
       furthest.order AS order, count(i) AS incidents
ORDER BY matrix, order
