// Changes whenever an import changes anything: what cached ATT&CK answers are keyed on. Domains
// that hold no release yet (only a failed sync's status) do not count.
MATCH (d:AttackDomain)
WHERE d.last_change_at IS NOT NULL
WITH d ORDER BY d.name
RETURN collect(d.name + '@' + toString(d.last_change_at)) AS version
