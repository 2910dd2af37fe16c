// Takes the named lease when it is free, expired or already ours. The SET takes the node's write
// lock first, so two contenders read the owner one after the other, never both as free (it must
// be a real change: removing an absent property takes no lock, and three replicas asked at once
// then all read the lease as free).
MERGE (l:SyncLease {name: $name})
SET l.contended_at = datetime()
WITH l, (l.owner IS NULL OR l.expires_at < datetime() OR l.owner = $owner) AS free
SET l.owner = CASE WHEN free THEN $owner ELSE l.owner END,
    l.acquired_at = CASE WHEN free THEN datetime() ELSE l.acquired_at END,
    l.expires_at = CASE WHEN free THEN datetime() + duration({milliseconds: $ttlMs})
                   ELSE l.expires_at END
RETURN free AS acquired, l.owner AS owner, toString(l.expires_at) AS expiresAt
