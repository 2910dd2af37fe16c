// What a sync needs to decide what changed: the validators of every polled source (a handful of
// nodes: index, bundle URLs and files, TAXII collections) and the version each domain holds.
CALL () {
  OPTIONAL MATCH (s:SyncSource)
  RETURN collect(s {.key, etag: s.etag, lastModified: s.last_modified, addedLast: s.added_last,
                    .version, .modified}) AS sources
}
CALL () {
  OPTIONAL MATCH (d:AttackDomain)
  RETURN collect(d {.name, .version}) AS domains
}
RETURN sources, domains
