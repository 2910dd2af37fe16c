// Sync runs, newest first (one when $id is given), with the total.
MATCH (r:SyncRun)
WHERE $id IS NULL OR r.id = $id
WITH r ORDER BY r.started_at DESC
WITH collect(r) AS runs
RETURN size(runs) AS count,
       [r IN runs[$offset..($offset + $limit)] |
        r {.*, started_at: toString(r.started_at), finished_at: toString(r.finished_at)}] AS runs
