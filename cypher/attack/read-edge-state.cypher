// What the graph holds of the relationships the diff must look at, each located between the ends
// a manifest or the bundle gives for it (a row per candidate pair; only the real one matches).
UNWIND $rows AS row
MATCH (a:AttackObject {stix_id: row.source})
MATCH (b:AttackObject {stix_id: row.target})
MATCH (a)-[r]->(b)
WHERE r.stix_id = row.id
RETURN r.stix_id AS id, r.hash AS hash, toString(r.modified) AS modified,
       r.revoked AS revoked, r.deprecated AS deprecated, coalesce(r.sources, []) AS sources,
       coalesce(r.source_hashes, []) AS sourceHashes, a.stix_id AS source, b.stix_id AS target
