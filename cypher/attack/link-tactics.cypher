// Technique → tactic from kill_chain_phases: the tactic with that shortname in the kill chain's
// domain, preferring an active one where a deprecated twin exists (Mobile has some).
UNWIND $rows AS row
MATCH (t:AttackObject {stix_id: row.from})
CALL (row) {
  MATCH (ta:Tactic {shortname: row.shortname})
  WHERE row.domain IN ta.domains
  RETURN ta
  ORDER BY ta.revoked, ta.deprecated
  LIMIT 1
}
CREATE (t)-[:IN_TACTIC {derived: true, domain: row.domain}]->(ta)
