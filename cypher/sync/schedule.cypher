// When the service's scheduler will sync next (read by status in every process).
MERGE (s:SyncSchedule {name: $name})
SET s.next_run_at = CASE WHEN $nextRunAt IS NULL THEN null ELSE datetime($nextRunAt) END,
    s.schedule = $schedule, s.updated_at = datetime()
