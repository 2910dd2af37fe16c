// Each domain's last bundle and manifest, read once before a bundle is parsed.
MATCH (d:AttackDomain)
RETURN d.name AS name, d.version AS version, d.sha256 AS sha256, d.last_report AS lastReport,
       d.manifest AS manifest
