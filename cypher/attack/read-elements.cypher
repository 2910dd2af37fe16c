// Every element's per-domain hashes (and a relationship's ends): the manifests are rebuilt from
// these when a domain has none or an import is forced. Derived edges carry no stix_id.
CALL () {
  MATCH (n:AttackObject)
  RETURN n.stix_id AS id, null AS source, null AS target, coalesce(n.source_hashes, []) AS sourceHashes
  UNION ALL
  MATCH (a:AttackObject)-[r]->(b:AttackObject)
  WHERE r.stix_id IS NOT NULL
  RETURN r.stix_id AS id, a.stix_id AS source, b.stix_id AS target,
         coalesce(r.source_hashes, []) AS sourceHashes
}
RETURN id, source, target, sourceHashes
