// What a sync needs to decide what changed: the validators of every polled source (a handful of
// nodes: index, bundle URLs and files, TAXII collections), the version each domain holds and whether
// its last recorded attempt failed, when the last run was recorded (for the heartbeat), and
// whether a release's remap of mappings is still to be done.
CALL () {
  OPTIONAL MATCH (s:SyncSource)
  RETURN collect(s {.key, etag: s.etag, lastModified: s.last_modified, addedLast: s.added_last,
                    .version, .modified}) AS sources
}
CALL () {
  OPTIONAL MATCH (d:AttackDomain)
  RETURN collect(d {.name, .version, failing: d.last_error IS NOT NULL}) AS domains
}
CALL () {
  OPTIONAL MATCH (r:SyncRun)
  RETURN toString(max(r.started_at)) AS lastRecordedAt
}
RETURN sources, domains, lastRecordedAt,
       EXISTS { MATCH (d:AttackDomain) WHERE d.remap_pending } AS remapPending
