MATCH (d:AttackDomain)
RETURN d.name AS domain, d.version AS version, d.attack_spec_version AS attackSpecVersion,
       d.source AS source, d.sha256 AS sha256, d.last_import_at AS lastImportAt,
       d.last_change_at AS lastChangeAt, d.last_report AS lastReport
ORDER BY domain
