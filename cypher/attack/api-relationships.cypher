// A page of STIX relationships with both ends. A given source or target anchors the match on an
// index; without either, every relationship is a candidate.
// Guards are empty UNWINDs: behind `WITH * WHERE $param` the planner would run every branch.
CALL () {
  UNWIND CASE WHEN $source IS NOT NULL THEN [$source] ELSE [] END AS given
  CALL (given) {
    MATCH (a:AttackObject {stix_id: given}) RETURN a
    UNION
    MATCH (a:AttackObject {attack_id: given}) RETURN a
  }
  MATCH (a)-[r]->(b:AttackObject)
  RETURN a, r, b
  UNION
  UNWIND CASE WHEN $source IS NULL AND $target IS NOT NULL THEN [$target] ELSE [] END AS given
  CALL (given) {
    MATCH (b:AttackObject {stix_id: given}) RETURN b
    UNION
    MATCH (b:AttackObject {attack_id: given}) RETURN b
  }
  MATCH (a:AttackObject)-[r]->(b)
  RETURN a, r, b
  UNION
  UNWIND CASE WHEN $source IS NULL AND $target IS NULL THEN [true] ELSE [] END AS everything
  MATCH (a:AttackObject)-[r]->(b:AttackObject)
  RETURN a, r, b
}
WITH a, r, b
WHERE r.stix_id IS NOT NULL
  AND ($types IS NULL OR r.relationship_type IN $types)
  AND ($target IS NULL OR b.stix_id = $target OR b.attack_id = $target)
  AND ($includeRevoked OR (NOT a.revoked AND NOT b.revoked))
  AND ($includeDeprecated OR (NOT a.deprecated AND NOT b.deprecated))
WITH a, r, b ORDER BY r.stix_id
WITH collect({a: a, r: r, b: b}) AS matched
WITH size(matched) AS count, matched[$offset..($offset + $limit)] AS page
CALL (page) {
  UNWIND page AS x
  WITH x.a AS a, x.r AS r, x.b AS b
  RETURN collect({
    stix_id: r.stix_id, relationship_type: r.relationship_type, description: r.description,
    created: r.created, modified: r.modified, revoked: r.revoked, deprecated: r.deprecated,
    stix: CASE WHEN $withStix THEN r.stix END,
    source: a {id: a.attack_id, .stix_id, .type, .name, .revoked, .deprecated},
    target: b {id: b.attack_id, .stix_id, .type, .name, .revoked, .deprecated}}) AS results
}
RETURN count, results
