// Every incident of every tenant, for a backup.
MATCH (n:Incident) WHERE n.tenant IS NOT NULL AND n.id IS NOT NULL
@backup-entity(n)
