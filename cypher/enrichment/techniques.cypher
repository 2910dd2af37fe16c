// What the enrichment engine learns from, per active technique: its names and text, tactics,
// parent, the procedure examples of the groups, software and campaigns that use it, and the
// detection strategies and analytics that detect it.
MATCH (t:Technique)
WHERE t.attack_id IS NOT NULL AND NOT coalesce(t.revoked, false)
  AND NOT coalesce(t.deprecated, false) AND NOT coalesce(t.removed, false)
OPTIONAL MATCH (t)-[:SUBTECHNIQUE_OF]->(p:Technique)
RETURN t.stix_id AS stixId, t.attack_id AS attackId, t.name AS name,
       coalesce(t.description, '') AS description, coalesce(t.detection, '') AS detection,
       coalesce(t.domains, []) AS domains, coalesce(t.platforms, []) AS platforms,
       p.attack_id AS parent,
       COLLECT { MATCH (t)-[:IN_TACTIC]->(ta:Tactic) RETURN DISTINCT ta.shortname } AS tactics,
       COLLECT {
         MATCH (s)-[u:USES]->(t)
         WHERE u.description IS NOT NULL AND NOT coalesce(u.revoked, false)
           AND NOT coalesce(u.deprecated, false)
         RETURN {source: s.stix_id, text: u.description}
       } AS procedures,
       COLLECT {
         MATCH (d:DetectionStrategy)-[:DETECTS]->(t)
         WHERE NOT coalesce(d.revoked, false) AND NOT coalesce(d.deprecated, false)
         OPTIONAL MATCH (d)-[:HAS_ANALYTIC]->(a:Analytic)
         OPTIONAL MATCH (a)-[c:USES_DATA_COMPONENT]->()
         WITH d, a, collect(coalesce(c.name, '') + ' ' + coalesce(c.channel, '')) AS channels
         RETURN coalesce(d.name, '') + '. ' + coalesce(a.description, '') + ' ' +
                reduce(s = '', x IN channels | s + ' ' + x)
       } AS detections
ORDER BY attackId, stixId
