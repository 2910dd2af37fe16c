// The tenant's own past incidents that share observed techniques (mapped on the incident, its
// alerts or their observables), most shared first, each with every technique it holds. $observed
// pairs each observed technique with a technique that counts as it (itself, or a sub-technique of
// an observed parent); $exclude is the incident asked about (null for none).
UNWIND $observed AS o
MATCH (m:Mapping {tenant: $tenant, technique_stix_id: o.technique})<-[:HAS_MAPPING]-(e)
WHERE @readable(m)
MATCH (e)-[:PART_OF]->{0,2}(i:Incident {tenant: $tenant})
WHERE @readable(i)
WITH i, count(DISTINCT o.observed) AS shared
WHERE $exclude IS NULL OR i.id <> $exclude
ORDER BY shared DESC, i.id
LIMIT toInteger($limit)
RETURN i.id AS incident, shared, COLLECT {
  MATCH (x)-[:PART_OF]->{0,2}(i)
  MATCH (x)-[:HAS_MAPPING]->(m:Mapping {tenant: $tenant})
  WHERE @readable(m)
  RETURN DISTINCT m.technique_stix_id
} AS techniques
