// The ATT&CK releases a report is made on: each loaded domain and its version.
MATCH (d:AttackDomain)
WHERE d.last_change_at IS NOT NULL
RETURN d.name AS domain, d.version AS version
ORDER BY domain
