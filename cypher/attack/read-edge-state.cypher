// Every edge that came from a STIX relationship (derived edges carry no stix_id).
MATCH (a:AttackObject)-[r]->(b:AttackObject)
WHERE r.stix_id IS NOT NULL
RETURN r.stix_id AS id, r.hash AS hash, toString(r.modified) AS modified,
       r.revoked AS revoked, r.deprecated AS deprecated, coalesce(r.sources, []) AS sources,
       coalesce(r.source_hashes, []) AS sourceHashes, a.stix_id AS source, b.stix_id AS target
