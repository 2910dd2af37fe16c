MATCH (d:AttackDomain {name: $domain})
RETURN d.sha256 AS sha256, d.last_report AS lastReport
