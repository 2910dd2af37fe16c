// The last statement of every write of a tenant's data: the tenant's gate (a write lock on one node,
// held to the commit). A backup holding every gate waits for the writes that reached theirs and
// keeps the others out until it has read: it sees each write whole or not at all. A tenant's first
// write also takes the registry, which a backup holds too: a tenant it did not know of cannot
// commit while it reads.
MERGE (g:TenantGate {tenant: $tenant})
SET g.writes = coalesce(g.writes, 0) + 1
WITH g WHERE g.writes = 1
MERGE (r:TenantRegistry {name: 'tenants'})
SET r.tenants = coalesce(r.tenants, 0) + 1
