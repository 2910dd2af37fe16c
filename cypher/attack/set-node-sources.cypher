// Which bundles hold a node changed, its content did not.
UNWIND $rows AS row
MATCH (n:AttackObject {stix_id: row.id})
SET n.sources = row.sources, n.source_hashes = row.sourceHashes, n.domains = row.domains
