MATCH (d:AttackDomain)
RETURN d.name AS domain, d.version AS version
