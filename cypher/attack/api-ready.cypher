MATCH (d:AttackDomain)
RETURN count(d) AS domains
