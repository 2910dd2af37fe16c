// Gives the lease back, only if it is still ours.
MATCH (l:SyncLease {name: $name})
WHERE l.owner = $owner
REMOVE l.owner, l.expires_at, l.acquired_at
RETURN count(l) AS released
