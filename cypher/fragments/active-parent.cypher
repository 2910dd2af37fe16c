// Fragment, included as @active-parent(t): the STIX id of technique <x>'s parent when <x> is a
// sub-technique of an active technique (null otherwise; the lowest id should ATT&CK ever name two).
COLLECT {
  MATCH (<x>)-[s:SUBTECHNIQUE_OF]->(p:Technique)
  WHERE NOT coalesce(s.revoked, false) AND NOT coalesce(p.revoked, false)
    AND NOT coalesce(p.deprecated, false)
  RETURN p.stix_id ORDER BY p.stix_id
}[0]
