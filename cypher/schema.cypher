// Applied at start-up by every entry point; each statement is idempotent.
CREATE CONSTRAINT attack_object_stix_id IF NOT EXISTS FOR (n:AttackObject) REQUIRE n.stix_id IS UNIQUE;
CREATE INDEX attack_object_attack_id IF NOT EXISTS FOR (n:AttackObject) ON (n.attack_id);
CREATE INDEX attack_object_name IF NOT EXISTS FOR (n:AttackObject) ON (n.name);
CREATE INDEX attack_object_type IF NOT EXISTS FOR (n:AttackObject) ON (n.type);
CREATE INDEX attack_object_flags IF NOT EXISTS FOR (n:AttackObject) ON (n.revoked, n.deprecated);
CREATE INDEX attack_object_modified IF NOT EXISTS FOR (n:AttackObject) ON (n.modified);
CREATE INDEX technique_is_subtechnique IF NOT EXISTS FOR (n:Technique) ON (n.is_subtechnique);
CREATE INDEX tactic_shortname IF NOT EXISTS FOR (n:Tactic) ON (n.shortname);
CREATE FULLTEXT INDEX attack_object_text IF NOT EXISTS FOR (n:AttackObject) ON EACH [n.attack_id, n.name, n.aliases, n.description];
CREATE CONSTRAINT attack_domain_name IF NOT EXISTS FOR (d:AttackDomain) REQUIRE d.name IS UNIQUE;
CREATE CONSTRAINT release_id IF NOT EXISTS FOR (r:Release) REQUIRE r.id IS UNIQUE;
CREATE INDEX release_change_release IF NOT EXISTS FOR (c:ReleaseChange) ON (c.release_id);
// Tenant data: alerts, incidents and observables keyed by tenant and the SOC platform's own id.
CREATE CONSTRAINT alert_tenant_id IF NOT EXISTS FOR (n:Alert) REQUIRE (n.tenant, n.id) IS UNIQUE;
CREATE CONSTRAINT incident_tenant_id IF NOT EXISTS FOR (n:Incident) REQUIRE (n.tenant, n.id) IS UNIQUE;
CREATE CONSTRAINT observable_tenant_id IF NOT EXISTS FOR (n:Observable) REQUIRE (n.tenant, n.id) IS UNIQUE;
CREATE CONSTRAINT mapping_id IF NOT EXISTS FOR (m:Mapping) REQUIRE m.id IS UNIQUE;
CREATE CONSTRAINT mapping_tenant_key IF NOT EXISTS FOR (m:Mapping) REQUIRE (m.tenant, m.key) IS UNIQUE;
CREATE INDEX mapping_tenant_technique IF NOT EXISTS FOR (m:Mapping) ON (m.tenant, m.technique_stix_id);
CREATE INDEX mapping_tenant_entity IF NOT EXISTS FOR (m:Mapping) ON (m.tenant, m.kind, m.entity_id);
CREATE CONSTRAINT mapping_event_id IF NOT EXISTS FOR (e:MappingEvent) REQUIRE e.id IS UNIQUE;
CREATE INDEX mapping_event_tenant_mapping IF NOT EXISTS FOR (e:MappingEvent) ON (e.tenant, e.mapping_id);
CREATE INDEX mapping_tenant_kind IF NOT EXISTS FOR (m:Mapping) ON (m.tenant, m.kind);
// Stale mappings are few: a release's remap finds them without reading every tenant's mappings.
CREATE INDEX mapping_stale IF NOT EXISTS FOR (m:Mapping) ON (m.stale);
// Sync: the lease, run records, per-source validators and the scheduler's next run.
CREATE CONSTRAINT sync_lease_name IF NOT EXISTS FOR (l:SyncLease) REQUIRE l.name IS UNIQUE;
CREATE CONSTRAINT sync_run_id IF NOT EXISTS FOR (r:SyncRun) REQUIRE r.id IS UNIQUE;
CREATE INDEX sync_run_started IF NOT EXISTS FOR (r:SyncRun) ON (r.started_at);
CREATE CONSTRAINT sync_source_key IF NOT EXISTS FOR (s:SyncSource) REQUIRE s.key IS UNIQUE;
CREATE CONSTRAINT sync_schedule_name IF NOT EXISTS FOR (s:SyncSchedule) REQUIRE s.name IS UNIQUE;
CREATE CONSTRAINT entity_event_id IF NOT EXISTS FOR (e:EntityEvent) REQUIRE e.id IS UNIQUE;
CREATE INDEX entity_event_tenant_entity IF NOT EXISTS FOR (e:EntityEvent) ON (e.tenant, e.kind, e.entity_id);
CREATE CONSTRAINT tenant_gate IF NOT EXISTS FOR (g:TenantGate) REQUIRE g.tenant IS UNIQUE;
CREATE CONSTRAINT tenant_registry IF NOT EXISTS FOR (r:TenantRegistry) REQUIRE r.name IS UNIQUE;
