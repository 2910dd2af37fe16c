// What the enrichment model is built from: every domain's last change (as attack/data-version)
// and version. A new release gives a new key, and the model is rebuilt.
MATCH (d:AttackDomain)
WHERE d.last_change_at IS NOT NULL
WITH d ORDER BY d.name
RETURN collect(d.name + '@' + toString(d.last_change_at)) AS key,
       collect(d.name + ' ' + coalesce(d.version, '?')) AS versions
