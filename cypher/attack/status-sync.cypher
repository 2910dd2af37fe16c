// Whether a sync holds the lease now, and when the service's scheduler runs next.
OPTIONAL MATCH (l:SyncLease {name: $lease})
WHERE l.expires_at > datetime()
OPTIONAL MATCH (s:SyncSchedule {name: $job})
RETURN l IS NOT NULL AS running, l.owner AS holder, toString(l.expires_at) AS leaseExpiresAt,
       toString(s.next_run_at) AS nextRunAt, s.schedule AS schedule
