// The domain's current state and, when the bundle changed anything, its release record.
MERGE (d:AttackDomain {name: $domain})
SET d.version = $release.version,
    d.attack_spec_version = $release.attack_spec_version,
    d.bundle_id = $release.bundle_id,
    d.sha256 = $release.sha256,
    d.source = $release.source,
    d.last_import_at = datetime($release.applied_at),
    d.last_report = $report
WITH d
CALL (d) {
  WITH d WHERE $changed
  MERGE (r:Release {id: $release.id})
  SET r += $release, r.applied_at = datetime($release.applied_at), r.report = $report
  SET d.last_change_at = datetime($release.applied_at)
  WITH d, r
  OPTIONAL MATCH (d)-[old:CURRENT_RELEASE]->()
  DELETE old
  MERGE (d)-[:CURRENT_RELEASE]->(r)
  MERGE (d)-[:HAS_RELEASE]->(r)
}
