// What the next-step model learns from: every active group, campaign and software with the active
// techniques it uses (STIX ids).
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
RETURN a.stix_id AS id,
       CASE WHEN a:Group THEN 'group' WHEN a:Campaign THEN 'campaign' ELSE 'software' END AS kind,
       techniques
ORDER BY id
