MATCH (d:AttackDomain)
OPTIONAL MATCH (d)-[:CURRENT_RELEASE]->(r:Release)
RETURN d.name AS domain, d.version AS version, d.attack_spec_version AS attackSpecVersion,
       d.source AS source, d.sha256 AS sha256, d.last_import_at AS lastImportAt,
       d.last_change_at AS lastChangeAt, d.last_report AS lastReport,
       d.sync_source AS syncSource, d.last_attempt_at AS lastAttemptAt,
       d.last_success_at AS lastSuccessAt, d.last_error AS lastError,
       d.last_error_at AS lastErrorAt, r.id AS releaseId, r.report AS releaseReport
ORDER BY domain
