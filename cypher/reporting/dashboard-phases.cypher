// Incidents by the furthest kill-chain phase they reached (matrix order) through the mappings of
// the incident, its alerts and their observables within the window. Mappings are grouped by
// technique first, so each technique's furthest tactic is found once, not once per mapping.
MATCH (i:Incident)
WHERE i.tenant IN $tenants AND @readable(i)
MATCH (x)-[:PART_OF]->{0,2}(i)
MATCH (x)-[:HAS_MAPPING]->(m:Mapping)
WHERE @readable(m)
WITH i, m, coalesce(m.occurred_at, m.created_at) AS at
WHERE ($from IS NULL OR at >= datetime($from)) AND ($to IS NULL OR at < datetime($to))
MATCH (m)-[:MAPS_TO]->(t:Technique)
WITH t, m.tactic AS named, collect(DISTINCT i) AS incidents
CALL (t, named) {
  MATCH (t)-[:IN_TACTIC]->(ta:Tactic)<-[h:HAS_TACTIC]-(mx:Matrix)
  WHERE (named IS NULL OR ta.shortname = named)
    AND NOT coalesce(mx.revoked, false) AND NOT coalesce(mx.deprecated, false)
  WITH mx, ta, h ORDER BY h.order DESC
  RETURN mx.name AS matrix, head(collect({tactic: ta.shortname, name: ta.name, order: h.order})) AS furthest
}
UNWIND incidents AS i
WITH i, matrix, furthest ORDER BY furthest.order DESC
WITH i, matrix, head(collect(furthest)) AS furthest
RETURN matrix, furthest.tactic AS tactic, furthest.name AS name,
       furthest.order AS order, count(i) AS incidents
ORDER BY matrix, order
