// A sync run's record (created when it starts, completed when it ends), each domain's last
// attempt / success / error, and the validators of the sources it applied. Old runs are pruned.
MERGE (r:SyncRun {id: $run.id})
SET r += $run,
    r.started_at = datetime($run.started_at),
    r.finished_at = CASE WHEN $run.finished_at IS NULL THEN null ELSE datetime($run.finished_at) END
WITH r
CALL (r) {
  UNWIND $domains AS o
  MERGE (d:AttackDomain {name: o.domain})
  SET d.sync_source = o.source,
      d.last_attempt_at = datetime(o.at),
      d.last_success_at = CASE WHEN o.error IS NULL THEN datetime(o.at) ELSE d.last_success_at END,
      d.last_error = o.error,
      d.last_error_at = CASE WHEN o.error IS NULL THEN d.last_error_at ELSE datetime(o.at) END
}
CALL (r) {
  UNWIND $sources AS s
  MERGE (x:SyncSource {key: s.key})
  SET x.etag = s.etag, x.last_modified = s.lastModified, x.added_last = s.addedLast,
      x.version = s.version, x.modified = s.modified, x.checked_at = datetime()
}
CALL (r) {
  WITH r WHERE $run.finished_at IS NOT NULL
  MATCH (old:SyncRun)
  WITH old ORDER BY old.started_at DESC
  SKIP toInteger($keepRuns)
  DETACH DELETE old
}
RETURN r.id AS id
