// One object by STIX id or ATT&CK id (both indexed), the active one first when an id is shared,
// with the active object at the end of its revocation chain.
CALL () {
  MATCH (n:AttackObject {stix_id: $id}) RETURN n
  UNION
  MATCH (n:AttackObject {attack_id: $id}) RETURN n
}
WITH n WHERE n.type IN $types AND n.removed IS NULL
WITH n ORDER BY n.revoked, n.deprecated, n.stix_id LIMIT 1
OPTIONAL MATCH chain = (n)-[:REVOKED_BY*1..20]->(last:AttackObject)
WHERE NOT (last)-[:REVOKED_BY]->()
WITH n, last ORDER BY length(chain) DESC LIMIT 1
RETURN n {.stix_id, .type, .attack_id, .url, .name, .description, .domains, .platforms, .aliases, .version,
          .created, .modified, .revoked, .deprecated, .is_subtechnique, .tactic_shortnames, .detection,
          .shortname, .first_seen, .last_seen, .is_family, stix: CASE WHEN $withStix THEN n.stix END} AS object,
       CASE WHEN last IS NULL THEN null
            ELSE last {id: last.attack_id, .stix_id, .type, .name, .revoked, .deprecated} END AS revokedBy
