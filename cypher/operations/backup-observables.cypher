// Every observable of every tenant, for a backup.
MATCH (n:Observable) WHERE n.tenant IS NOT NULL AND n.id IS NOT NULL
@backup-entity(n)
