// What the next-step model learns from: every active `uses` relationship of an active group,
// campaign or software to an active technique (STIX ids), with the technique's parent when it is
// a sub-technique, and the relationship's description, whose `(Citation: …)` markers name the
// reports it was taken from, and when ATT&CK added it.
MATCH (a:AttackObject)-[u:USES]->(t:Technique)
WHERE (a:Group OR a:Campaign OR a:Software) AND NOT coalesce(a.revoked, false)
  AND NOT coalesce(a.deprecated, false) AND NOT coalesce(u.revoked, false)
  AND NOT coalesce(t.revoked, false) AND NOT coalesce(t.deprecated, false)
RETURN a.stix_id AS actor,
       CASE WHEN a:Group THEN 'group' WHEN a:Campaign THEN 'campaign' ELSE 'software' END AS kind,
       t.stix_id AS technique,
       @active-parent(t) AS parent,
       u.description AS description, toString(u.created) AS created
ORDER BY actor, technique
