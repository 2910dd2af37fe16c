// Inside a release's write transaction: the writer still holds the lease. Setting a property
// takes the lease node's write lock until the transaction ends, so no one can take the lease over
// between this check and the commit.
MATCH (l:SyncLease {name: $name})
WHERE l.owner = $owner AND l.expires_at > datetime()
SET l.checked_at = datetime()
RETURN l.owner AS owner
