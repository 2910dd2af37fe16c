// Each given id (ATT&CK or STIX) → the technique it names, the active technique at the end of its
// revocation chain, and that technique's tactics. Unknown ids return no row.
UNWIND $ids AS given
CALL (given) {
  MATCH (t:AttackObject {stix_id: given}) WHERE t:Technique RETURN t
  UNION
  MATCH (t:AttackObject {attack_id: given}) WHERE t:Technique RETURN t
}
WITH given, t ORDER BY t.revoked, t.deprecated
WITH given, collect(t)[0] AS t
OPTIONAL MATCH chain = (t)-[:REVOKED_BY*1..20]->(last:Technique)
WHERE NOT (last)-[:REVOKED_BY]->()
WITH given, t, last ORDER BY length(chain) DESC
WITH given, t, collect(last)[0] AS last
WITH given, t, coalesce(last, t) AS active
RETURN given, t.stix_id AS stixId, t.attack_id AS attackId, t.revoked AS revoked,
       active.stix_id AS activeStixId, active.attack_id AS activeAttackId, active.name AS activeName,
       active.deprecated AS activeDeprecated, active.revoked AS activeRevoked,
       [(active)-[:IN_TACTIC]->(ta:Tactic) | ta.shortname] AS tactics,
       head([d IN active.sources | d]) AS domain
