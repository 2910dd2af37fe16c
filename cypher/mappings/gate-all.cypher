// The last statement of a write across tenants (a release's remap): every tenant's gate, in tenant
// order as a backup takes them, so that the two never wait on each other in a cycle.
MATCH (g:TenantGate)
WITH g ORDER BY g.tenant
SET g.writes = g.writes + 1
RETURN count(g) AS gates
