// The domain's current state and, when the bundle changed anything, its release record with the
// changelog entries. A version applied again with other bytes gets its own record (id + hash).
MERGE (d:AttackDomain {name: $domain})
WITH d, d.version AS previousVersion
SET d.version = $release.version,
    d.attack_spec_version = $release.attack_spec_version,
    d.bundle_id = $release.bundle_id,
    d.sha256 = $release.sha256,
    d.source = $release.source,
    d.last_import_at = datetime($release.applied_at),
    d.last_report = $report
WITH d, previousVersion
OPTIONAL CALL (d, previousVersion) {
  WITH d, previousVersion WHERE $changed
  OPTIONAL MATCH (prior:Release {id: $releaseId})
  WITH d, previousVersion,
       CASE WHEN prior IS NULL OR prior.sha256 = $release.sha256 THEN $releaseId
            ELSE $releaseId + '~' + substring($release.sha256, 0, 12) END AS id
  MERGE (r:Release {id: id})
  SET r += $release, r.applied_at = datetime($release.applied_at), r.report = $report,
      r.previous_version = previousVersion
  // Cleared by the mappings' remap once it succeeds; a sync retries it until then.
  SET d.last_change_at = datetime($release.applied_at), d.remap_pending = true
  WITH d, r
  OPTIONAL MATCH (d)-[old:CURRENT_RELEASE]->()
  DELETE old
  MERGE (d)-[:CURRENT_RELEASE]->(r)
  MERGE (d)-[:HAS_RELEASE]->(r)
  WITH r
  CALL (r) {
    MATCH (r)-[:HAS_CHANGE]->(old:ReleaseChange)
    DETACH DELETE old
  }
  CALL (r) {
    UNWIND $changes AS c
    CREATE (r)-[:HAS_CHANGE]->(x:ReleaseChange)
    SET x = c, x.release_id = r.id
  }
  RETURN r.id AS releaseId
}
RETURN releaseId
