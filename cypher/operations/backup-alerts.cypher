// Every alert of every tenant, for a backup.
MATCH (n:Alert) WHERE n.tenant IS NOT NULL AND n.id IS NOT NULL
@backup-entity(n)
