// The ids the engine resolves: revoked techniques to what replaced them (followed to the end by
// the engine), and tactics by shortname for tags such as attack.execution.
CALL () {
  MATCH (old:Technique)-[:REVOKED_BY]->(new:Technique)
  WHERE old.attack_id IS NOT NULL AND new.attack_id IS NOT NULL
  RETURN collect(DISTINCT {from: old.attack_id, to: new.attack_id}) AS revoked
}
CALL () {
  MATCH (ta:Tactic)
  WHERE NOT coalesce(ta.revoked, false) AND NOT coalesce(ta.deprecated, false)
  RETURN collect(DISTINCT {shortname: ta.shortname, id: ta.attack_id, name: ta.name}) AS tactics
}
RETURN revoked, tactics
