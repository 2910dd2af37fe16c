// Removes a batch of tenant data (a failed restore's partial work); run until it removes none.
MATCH (n:Alert|Incident|Observable|Mapping|MappingEvent|EntityEvent|TenantGate)
WITH n LIMIT 10000
DETACH DELETE n
RETURN count(*) AS removed
