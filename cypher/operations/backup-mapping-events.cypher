// Every mapping's audit event, for a backup.
MATCH (n:MappingEvent) WHERE n.id IS NOT NULL
@backup-event(n)
