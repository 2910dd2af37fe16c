// Applied releases, newest first (one when $id is given), optionally of some domains, with the total.
MATCH (r:Release)
WHERE ($id IS NULL OR r.id = $id) AND ($domains IS NULL OR r.domain IN $domains)
WITH r ORDER BY r.applied_at DESC, r.id
WITH collect(r) AS releases
RETURN size(releases) AS count,
       [r IN releases[$offset..($offset + $limit)] |
        r {.id, .domain, .version, .previous_version, .attack_spec_version, .bundle_id, .sha256,
           .source, .duration_ms, .report, applied_at: toString(r.applied_at),
           current: EXISTS { (:AttackDomain)-[:CURRENT_RELEASE]->(r) }}] AS releases
