// The restored tenants' gates, with their write counts as backed up.
UNWIND $gates AS row
MERGE (g:TenantGate {tenant: row.tenant})
SET g.writes = row.writes
RETURN count(g) AS restored
