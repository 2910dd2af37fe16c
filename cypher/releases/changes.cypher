// One page of a release's changelog, filtered by category and STIX type; found is false for an
// unknown release (404), so an empty page means "no such changes".
OPTIONAL MATCH (r:Release {id: $id})
CALL (r) {
  MATCH (c:ReleaseChange {release_id: $id})
  WHERE r IS NOT NULL AND ($category IS NULL OR c.category = $category)
    AND ($type IS NULL OR c.type = $type)
  WITH c ORDER BY c.category, c.type, c.attack_id, c.stix_id
  RETURN collect(c {.category, .type, .stix_id, .attack_id, .name, .version_from, .version_to})
         AS changes
}
RETURN r IS NOT NULL AS found, size(changes) AS count, changes[$offset..($offset + $limit)] AS changes
