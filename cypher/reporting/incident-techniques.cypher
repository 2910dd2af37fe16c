// An incident's observed techniques, tenant-scoped: the mappings of the incident itself, of its
// alerts, and of the observables of either, each with the entity it came from and when it was
// seen (occurred_at, else when it was mapped). No row (not even the incident) when the tenant has
// no such incident. Each technique comes with its tactics in the order of its domain's matrix.
MATCH (i:Incident {tenant: $tenant, id: $id})
CALL (i) {
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
OPTIONAL MATCH (m)-[:MAPS_TO]->(t:Technique)
WITH i, m, kind, entityId, t
RETURN i.id AS incident,
       COUNT { MATCH (:Alert {tenant: $tenant})-[:PART_OF]->(i) } AS alerts,
       COUNT {
         MATCH (o:Observable {tenant: $tenant})-[:PART_OF]->{1,2}(i) RETURN DISTINCT o
       } AS observables,
       collect(CASE WHEN t IS NULL THEN null ELSE {
         mappingId: m.id, kind: kind, entityId: entityId,
         technique: t.attack_id, name: t.name, subtechnique: coalesce(t.is_subtechnique, false),
         tactic: m.tactic, confidence: m.confidence, source: m.source, procedure: m.procedure,
         occurredAt: toString(m.occurred_at), mappedAt: toString(m.created_at),
         tactics: COLLECT {
           MATCH (t)-[:IN_TACTIC]->(ta:Tactic)<-[h:HAS_TACTIC]-(mx:Matrix)
           WHERE NOT coalesce(mx.revoked, false) AND NOT coalesce(mx.deprecated, false)
           RETURN {shortname: ta.shortname, id: ta.attack_id, name: ta.name,
                   matrix: mx.name, domain: mx.attack_id, order: h.order}
           ORDER BY h.order
         }
       } END) AS observed
