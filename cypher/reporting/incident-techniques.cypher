// An incident's observed techniques, tenant-scoped: the mappings of the incident itself, of its
// alerts, and of the observables of either, each with the entity it came from and when it was
// seen (occurred_at, else when it was mapped). No row (not even the incident) when the tenant has
// no such incident. One entry per technique, with its tactics in the order of its domain's matrix
// and the mappings that name it (the answer stays small: tactics are not repeated per mapping).
MATCH (i:Incident {tenant: $tenant, id: $id})
WHERE @readable(i)
// Counted once, before the mappings multiply the rows.
WITH i,
     COUNT { MATCH (a:Alert {tenant: $tenant})-[:PART_OF]->(i) WHERE @readable(a) } AS alerts,
     COUNT {
       MATCH (o:Observable {tenant: $tenant})-[:PART_OF]->{1,2}(i) WHERE @readable(o)
       RETURN DISTINCT o
     } AS observables
// Only the mappings the caller may read (a restricted alert's are left out); an incident with none
// still answers (OPTIONAL).
OPTIONAL CALL (i) {
  MATCH (i)-[:HAS_MAPPING]->(m:Mapping)
  RETURN m, 'incident' AS kind, i.id AS entityId
  UNION
  MATCH (a:Alert {tenant: $tenant})-[:PART_OF]->(i)
  MATCH (a)-[:HAS_MAPPING]->(m:Mapping)
  RETURN m, 'alert' AS kind, a.id AS entityId
  UNION
  MATCH (o:Observable {tenant: $tenant})-[:PART_OF]->(i)
  MATCH (o)-[:HAS_MAPPING]->(m:Mapping)
  RETURN m, 'observable' AS kind, o.id AS entityId
  UNION
  MATCH (o:Observable {tenant: $tenant})-[:PART_OF]->(:Alert {tenant: $tenant})-[:PART_OF]->(i)
  MATCH (o)-[:HAS_MAPPING]->(m:Mapping)
  RETURN m, 'observable' AS kind, o.id AS entityId
}
WITH i, alerts, observables, CASE WHEN @readable(m) THEN m END AS m, kind, entityId
OPTIONAL MATCH (m)-[:MAPS_TO]->(t:Technique)
// Each technique's tactics once, however many mappings name it.
WITH i, alerts, observables, t, collect({m: m, kind: kind, entityId: entityId}) AS uses
WITH i, alerts, observables, t, uses, CASE WHEN t IS NULL THEN [] ELSE COLLECT {
  MATCH (t)-[:IN_TACTIC]->(ta:Tactic)<-[h:HAS_TACTIC]-(mx:Matrix)
  WHERE NOT coalesce(mx.revoked, false) AND NOT coalesce(mx.deprecated, false)
  RETURN {shortname: ta.shortname, id: ta.attack_id, name: ta.name,
          matrix: mx.name, domain: mx.attack_id, order: h.order}
  ORDER BY h.order
} END AS tactics
RETURN i.id AS incident, alerts, observables,
       collect(CASE WHEN t IS NULL THEN null ELSE {
         technique: t.attack_id, stixId: t.stix_id, name: t.name,
         tactics: tactics,
         mappings: [u IN uses WHERE u.m IS NOT NULL | {
           mappingId: u.m.id, kind: u.kind, entityId: u.entityId, tactic: u.m.tactic,
           procedure: u.m.procedure,
           occurredAt: toString(u.m.occurred_at)}]
       } END) AS techniques
