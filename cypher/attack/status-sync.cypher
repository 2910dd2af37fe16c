// Whether a sync holds the lease now, and when the service's scheduler runs next. The recorded next
// run of an interval schedule is rolled forward past now: polls that find nothing new write nothing.
OPTIONAL MATCH (l:SyncLease {name: $lease})
WHERE l.expires_at > datetime()
OPTIONAL MATCH (s:SyncSchedule {name: $job})
WITH l, s, datetime() AS now
WITH l, s,
     CASE WHEN s.interval_ms > 0 AND s.next_run_at < now
          THEN s.next_run_at + duration({milliseconds: s.interval_ms * toInteger(ceil(
                 toFloat(now.epochMillis - s.next_run_at.epochMillis) / s.interval_ms))})
          ELSE s.next_run_at END AS nextRunAt
RETURN l IS NOT NULL AS running, l.owner AS holder, toString(l.expires_at) AS leaseExpiresAt,
       toString(nextRunAt) AS nextRunAt, s.schedule AS schedule
