// Takes the named lease when it is free, expired or already ours. The REMOVE takes the node's
// write lock first, so two contenders read the owner one after the other, never both as free.
MERGE (l:SyncLease {name: $name})
REMOVE l.lock
WITH l, (l.owner IS NULL OR l.expires_at < datetime() OR l.owner = $owner) AS free
SET l.owner = CASE WHEN free THEN $owner ELSE l.owner END,
    l.acquired_at = CASE WHEN free THEN datetime() ELSE l.acquired_at END,
    l.expires_at = CASE WHEN free THEN datetime() + duration({milliseconds: $ttlMs})
                   ELSE l.expires_at END
RETURN free AS acquired, l.owner AS owner, toString(l.expires_at) AS expiresAt
