// An alert's techniques, tenant-scoped: its own mappings and its observables', each technique once
// with how many mappings name it and the tactics they name. No row when the tenant has no such alert.
MATCH (a:Alert {tenant: $tenant, id: $id})
WHERE @readable(a)
OPTIONAL MATCH (x)-[:PART_OF]->{0,1}(a)
WHERE x = a OR x:Observable
OPTIONAL MATCH (x)-[:HAS_MAPPING]->(m:Mapping)-[:MAPS_TO]->(t:Technique)
WHERE @readable(m)
WITH a, t, collect(m) AS ms
RETURN a.id AS alert, collect(CASE WHEN t IS NULL THEN null ELSE {
  technique: t.attack_id, name: t.name, mappings: size(ms),
  tactics: [x IN ms WHERE x.tactic IS NOT NULL | x.tactic],
  domain: head(coalesce(t.domains, []))
} END) AS techniques
