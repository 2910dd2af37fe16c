// Inside a release's write transaction: the writer still holds the lease, i.e. no one has taken
// it over (its expiry matters to others, who may take it once it passed; while it is ours it is
// ours). Setting a property takes the lease node's write lock until the transaction ends, so no
// one can take the lease over between this check and the commit.
MATCH (l:SyncLease {name: $name})
WHERE l.owner = $owner
SET l.checked_at = datetime()
RETURN l.owner AS owner
