// Full-text search, ranked: an exact ATT&CK id first, then Lucene's relevance.
CALL db.index.fulltext.queryNodes('attack_object_text', $query) YIELD node AS n, score
WHERE n.type IN $types AND n.removed IS NULL
  AND ($includeRevoked OR NOT n.revoked)
  AND ($includeDeprecated OR NOT n.deprecated)
  AND ($domain IS NULL OR $domain IN n.domains)
  AND ($platform IS NULL OR any(p IN n.platforms WHERE toLower(p) = toLower($platform)))
  AND ($isSubtechnique IS NULL OR n.is_subtechnique = $isSubtechnique)
  AND ($modifiedAfter IS NULL OR n.modified > datetime($modifiedAfter))
  AND ($tactic IS NULL OR EXISTS { (n)-[:IN_TACTIC]->(t:Tactic) WHERE t.shortname = $tactic OR t.attack_id = $tactic })
  AND ($parent IS NULL OR EXISTS { (n)-[:SUBTECHNIQUE_OF]->(p:AttackObject) WHERE p.attack_id = $parent OR p.stix_id = $parent })
WITH n, score + CASE WHEN toUpper(n.attack_id) = toUpper($exact) THEN 1000.0 ELSE 0.0 END AS rank
ORDER BY rank DESC, n.attack_id, n.stix_id
WITH collect(n) AS matched
RETURN size(matched) AS count,
       [x IN matched[$offset..($offset + $limit)] | x {.stix_id, .type, .attack_id, .url, .name, .description, .domains, .platforms, .aliases, .version, .created, .modified, .revoked, .deprecated, .is_subtechnique, .tactic_shortnames, .detection, .shortname, .first_seen, .last_seen, .is_family}] AS results
