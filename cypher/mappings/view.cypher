// Mappings by id, scoped to the tenant: another tenant's id finds nothing.
UNWIND $ids AS id
MATCH (m:Mapping {id: id})
WHERE m.tenant = $tenant
MATCH (m)-[:MAPS_TO]->(t:Technique)
OPTIONAL MATCH (e)-[:HAS_MAPPING]->(m)
OPTIONAL MATCH (e)-[:PART_OF]->(i:Incident)
OPTIONAL MATCH (e)-[:PART_OF]->(a:Alert)
RETURN m {.*, created_at: toString(m.created_at), updated_at: toString(m.updated_at),
          occurred_at: toString(m.occurred_at)} AS mapping,
       t {id: t.attack_id, .stix_id, .name, .revoked, .deprecated} AS technique,
       i.id AS incidentId, a.id AS alertId
