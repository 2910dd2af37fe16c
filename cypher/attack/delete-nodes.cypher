// Nodes that no bundle holds any more. One that tenant data points at (a mapping) is kept and
// flagged, so that nothing outside ATT&CK loses its link.
UNWIND $ids AS id
MATCH (n:AttackObject {stix_id: id})
OPTIONAL MATCH (n)--(other) WHERE NOT other:AttackObject
WITH n, count(other) AS foreign
CALL (n, foreign) {
  WITH n WHERE foreign > 0
  SET n.removed = true, n.sources = [], n.source_hashes = []
}
CALL (n, foreign) {
  WITH n WHERE foreign = 0
  DETACH DELETE n
}
