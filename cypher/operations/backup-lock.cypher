// A backup's first statement: the tenant registry, then every tenant's gate (see mappings/gate),
// created for tenants whose data predates gates, write-locked in tenant order until the backup's
// transaction ends. Writers of tenant data wait meanwhile, so the backup reads one consistent state.
MERGE (r:TenantRegistry {name: 'tenants'})
SET r.backup_at = datetime($now)
WITH r
CALL () {
  MATCH (n:Alert) RETURN DISTINCT n.tenant AS tenant
  UNION
  MATCH (n:Incident) RETURN DISTINCT n.tenant AS tenant
  UNION
  MATCH (n:Observable) RETURN DISTINCT n.tenant AS tenant
  UNION
  MATCH (g:TenantGate) RETURN g.tenant AS tenant
}
// A node deleted meanwhile (a failed restore's wipe) reads without its tenant.
WITH tenant WHERE tenant IS NOT NULL
WITH tenant ORDER BY tenant
MERGE (g:TenantGate {tenant: tenant})
SET g.writes = coalesce(g.writes, 0), g.backup_at = datetime($now)
RETURN collect({tenant: g.tenant, writes: g.writes}) AS gates
