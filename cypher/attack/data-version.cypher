// Changes whenever an import changes anything: what cached ATT&CK answers are keyed on.
MATCH (d:AttackDomain)
WITH d ORDER BY d.name
RETURN collect(d.name + '@' + coalesce(toString(d.last_change_at), '')) AS version
