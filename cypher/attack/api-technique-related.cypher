// What a technique page shows beside the technique: its tactics in kill-chain order, parent or
// sub-techniques, and the active objects that mitigate, detect or use it (bounded, with counts).
MATCH (t:AttackObject {stix_id: $id})
CALL (t) {
  OPTIONAL MATCH (t)-[k:IN_TACTIC]->(ta:Tactic)
  OPTIONAL MATCH (m:Matrix)-[h:HAS_TACTIC]->(ta)
  WITH ta, k, min(h.order) AS position
  ORDER BY position
  RETURN collect(CASE WHEN ta IS NULL THEN null
                 ELSE {id: ta.attack_id, stix_id: ta.stix_id, name: ta.name, shortname: ta.shortname, domain: k.domain} END) AS killChain
}
CALL (t) {
  OPTIONAL MATCH (t)-[:SUBTECHNIQUE_OF]->(p:AttackObject)
  RETURN CASE WHEN p IS NULL THEN null
         ELSE p {id: p.attack_id, .stix_id, .type, .name, .revoked, .deprecated} END AS parent
  LIMIT 1
}
CALL (t) {
  OPTIONAL MATCH (s:AttackObject)-[:SUBTECHNIQUE_OF]->(t)
  WHERE NOT s.revoked AND NOT s.deprecated
  WITH s ORDER BY s.attack_id
  RETURN collect(s {id: s.attack_id, .stix_id, .type, .name, .revoked, .deprecated}) AS subtechniques
}
CALL (t) {
  OPTIONAL MATCH (o:AttackObject)-[r]->(t)
  WHERE type(r) IN ['MITIGATES', 'DETECTS', 'USES'] AND NOT o.revoked AND NOT o.deprecated
  WITH o, r,
       CASE
         WHEN type(r) = 'MITIGATES' THEN 'mitigations'
         WHEN type(r) = 'DETECTS' THEN 'detection_strategies'
         WHEN o:Group THEN 'groups'
         WHEN o:Software THEN 'software'
         WHEN o:Campaign THEN 'campaigns'
       END AS kind
  WHERE kind IS NOT NULL
  WITH kind, o, r ORDER BY o.attack_id, o.stix_id
  WITH kind, collect({object: o {id: o.attack_id, .stix_id, .type, .name, .revoked, .deprecated},
                      relationship_id: r.stix_id, description: r.description}) AS items
  RETURN collect({kind: kind, count: size(items), results: items[0..$relatedLimit]}) AS related
}
RETURN killChain, parent, subtechniques, related
