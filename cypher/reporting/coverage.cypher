// What covers each given technique (STIX ids): the mitigations with the text of their mitigates
// relationship, and the detection strategies (or data components) that detect it, with their
// analytics. Revoked and deprecated ones are left out.
UNWIND $techniques AS sid
MATCH (t:AttackObject {stix_id: sid})
RETURN sid AS id, t.attack_id AS technique,
       COLLECT {
         MATCH (m:Mitigation)-[r:MITIGATES]->(t)
         WHERE NOT coalesce(m.revoked, false) AND NOT coalesce(m.deprecated, false)
           AND NOT coalesce(r.revoked, false)
         RETURN {id: m.attack_id, name: m.name, url: m.url, text: r.description}
         ORDER BY m.attack_id
       } AS mitigations,
       COLLECT {
         MATCH (d:AttackObject)-[r:DETECTS]->(t)
         WHERE NOT coalesce(d.revoked, false) AND NOT coalesce(d.deprecated, false)
           AND NOT coalesce(r.revoked, false)
         RETURN {id: coalesce(d.attack_id, d.stix_id), name: d.name, url: d.url,
                 analytics: COLLECT {
                   MATCH (d)-[:HAS_ANALYTIC]->(a:Analytic)
                   WHERE NOT coalesce(a.revoked, false) AND NOT coalesce(a.deprecated, false)
                   RETURN {id: coalesce(a.attack_id, a.stix_id), name: a.name,
                           platforms: coalesce(a.platforms, [])}
                   ORDER BY a.attack_id
                 }}
         ORDER BY coalesce(d.attack_id, d.stix_id)
       } AS detections
