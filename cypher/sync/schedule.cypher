// When the service's scheduler will sync next (read by status in every process). Quiet polls do
// not write it: status rolls an interval schedule's next run forward.
MERGE (s:SyncSchedule {name: $name})
SET s.next_run_at = CASE WHEN $nextRunAt IS NULL THEN null ELSE datetime($nextRunAt) END,
    s.schedule = $schedule, s.interval_ms = $intervalMs, s.updated_at = datetime()
