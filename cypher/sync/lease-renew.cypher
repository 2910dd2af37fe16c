// Extends the lease while its holder works; no row when another owner has it (ours expired).
MATCH (l:SyncLease {name: $name})
WHERE l.owner = $owner
SET l.expires_at = datetime() + duration({milliseconds: $ttlMs})
RETURN toString(l.expires_at) AS expiresAt
