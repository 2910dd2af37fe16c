// ATT&CK's actors as evidence for suggestions: each active group, campaign and software with the
// techniques it uses (STIX ids) and, for campaigns and groups, when it was seen.
MATCH (a:AttackObject)
WHERE (a:Group OR a:Campaign OR a:Software) AND NOT coalesce(a.revoked, false)
  AND NOT coalesce(a.deprecated, false)
WITH a, COLLECT {
  MATCH (a)-[u:USES]->(t:Technique)
  WHERE NOT coalesce(u.revoked, false) AND NOT coalesce(t.revoked, false)
    AND NOT coalesce(t.deprecated, false)
  RETURN DISTINCT t.stix_id
} AS techniques
WHERE size(techniques) > 0
RETURN a.stix_id AS id, a.attack_id AS attackId, a.name AS name,
       CASE WHEN a:Group THEN 'group' WHEN a:Campaign THEN 'campaign' ELSE 'software' END AS kind,
       toString(a.first_seen) AS firstSeen, toString(a.last_seen) AS lastSeen, techniques
ORDER BY id
