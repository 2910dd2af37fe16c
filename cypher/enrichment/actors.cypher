// Software and groups by name and alias, with the techniques they use: a name seen in an alert
// hints at those techniques (weakly).
MATCH (s:AttackObject)
WHERE (s:Software OR s:Group) AND NOT coalesce(s.revoked, false)
  AND NOT coalesce(s.deprecated, false)
WITH s, COLLECT {
  MATCH (s)-[u:USES]->(t:Technique)
  WHERE t.attack_id IS NOT NULL AND NOT coalesce(t.revoked, false)
    AND NOT coalesce(u.revoked, false)
  RETURN DISTINCT t.attack_id
} AS techniques
WHERE size(techniques) > 0
RETURN s.stix_id AS stixId, s.attack_id AS attackId, s.name AS name,
       coalesce(s.aliases, []) AS aliases, CASE WHEN s:Group THEN 'group' ELSE 'software' END AS kind,
       techniques
ORDER BY attackId
