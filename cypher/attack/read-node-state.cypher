// What the graph holds of the objects the diff must look at (those whose hash moved).
UNWIND $ids AS id
MATCH (n:AttackObject {stix_id: id})
RETURN n.stix_id AS id, n.type AS type, n.hash AS hash, toString(n.modified) AS modified,
       n.revoked AS revoked, n.deprecated AS deprecated, coalesce(n.sources, []) AS sources,
       coalesce(n.source_hashes, []) AS sourceHashes, coalesce(n.domains, []) AS domains,
       n.attack_id AS attackId, n.name AS name, n.version AS version
