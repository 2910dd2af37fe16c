// Every write of a tenant's data takes the tenant's gate first (a write lock on one node), so a
// backup holding every gate sees no write half done. Writers of one tenant queue here.
MERGE (g:TenantGate {tenant: $tenant})
SET g.writes = coalesce(g.writes, 0) + 1
