// A page of STIX relationships with both ends. A given source or target anchors the match on an
// index; without either, every relationship is a candidate.
CALL () {
  WITH * WHERE $source IS NOT NULL
  MATCH (a:AttackObject) WHERE a.stix_id = $source OR a.attack_id = $source
  MATCH (a)-[r]->(b:AttackObject)
  RETURN a, r, b
  UNION
  WITH * WHERE $source IS NULL AND $target IS NOT NULL
  MATCH (b:AttackObject) WHERE b.stix_id = $target OR b.attack_id = $target
  MATCH (a:AttackObject)-[r]->(b)
  RETURN a, r, b
  UNION
  WITH * WHERE $source IS NULL AND $target IS NULL
  MATCH (a:AttackObject)-[r]->(b:AttackObject)
  RETURN a, r, b
}
WITH a, r, b
WHERE r.stix_id IS NOT NULL
  AND ($type IS NULL OR r.relationship_type = $type)
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
