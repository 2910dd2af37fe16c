// Every entity's audit event, for a backup.
MATCH (n:EntityEvent) WHERE n.id IS NOT NULL
@backup-event(n)
