// Every tenant holding mappings (a superuser's dashboard across tenants).
MATCH (m:Mapping)
RETURN DISTINCT m.tenant AS tenant
