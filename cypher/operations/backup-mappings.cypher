// Every mapping in id order, with its entity and its technique's STIX id.
MATCH (m:Mapping) WHERE m.id IS NOT NULL
WITH m ORDER BY m.id
RETURN m.id AS id, @typed-props(m) AS props,
       [(e)-[:HAS_MAPPING]->(m) | {id: e.id, label: head(labels(e)), tenant: e.tenant}][0] AS entity,
       [(m)-[:MAPS_TO]->(t) | t.stix_id][0] AS technique
