// Full-text search, ranked: an exact ATT&CK id first, then Lucene's relevance.
CALL db.index.fulltext.queryNodes('attack_object_text', $query) YIELD node AS n, score
WHERE n.type IN $types AND n.removed IS NULL
  AND ($includeRevoked OR NOT n.revoked)
  AND ($includeDeprecated OR NOT n.deprecated)
  AND ($domains IS NULL OR any(d IN $domains WHERE d IN n.domains))
  AND ($platforms IS NULL OR any(p IN n.platforms WHERE toLower(p) IN $platforms))
  AND ($isSubtechnique IS NULL OR n.is_subtechnique = $isSubtechnique)
  AND ($modifiedAfter IS NULL OR n.modified > datetime($modifiedAfter))
  AND ($tactics IS NULL OR EXISTS { (n)-[:IN_TACTIC]->(t:Tactic) WHERE t.shortname IN $tactics OR t.attack_id IN $tactics })
  AND ($parent IS NULL OR EXISTS { (n)-[:SUBTECHNIQUE_OF]->(p:AttackObject) WHERE p.attack_id = $parent OR p.stix_id = $parent })
WITH n, score + CASE WHEN toUpper(n.attack_id) = toUpper($exact) THEN 1000.0 ELSE 0.0 END AS rank
ORDER BY rank DESC, n.attack_id, n.stix_id
WITH collect(n) AS matched
RETURN size(matched) AS count,
       [x IN matched[$offset..($offset + $limit)] | x {.stix_id, .type, .attack_id, .url, .name, .description, .domains, .platforms, .aliases, .version, .created, .modified, .revoked, .deprecated, .is_subtechnique, .tactic_shortnames, .detection, .shortname, .first_seen, .last_seen, .is_family}] AS results
