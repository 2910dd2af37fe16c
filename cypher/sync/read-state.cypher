// What a sync needs to decide what changed: the HTTP/TAXII validators of each source it polls and
// what each domain holds, with the lease (a running sync).
CALL () {
  UNWIND $keys AS key
  OPTIONAL MATCH (s:SyncSource {key: key})
  RETURN collect({key: key, etag: s.etag, lastModified: s.last_modified, addedLast: s.added_last,
                  version: s.version, modified: s.modified}) AS sources
}
CALL () {
  OPTIONAL MATCH (d:AttackDomain)
  RETURN collect(d {.name, .version, .sha256}) AS domains
}
OPTIONAL MATCH (l:SyncLease {name: $lease})
WHERE l.expires_at > datetime()
RETURN sources, domains, l {.owner, expiresAt: toString(l.expires_at)} AS lease
