// Every active matrix's tactics in kill-chain order, with how many active techniques each holds:
// what an incident's kill chain is laid out on and measured against.
MATCH (mx:Matrix)-[h:HAS_TACTIC]->(ta:Tactic)
WHERE NOT coalesce(mx.revoked, false) AND NOT coalesce(mx.deprecated, false)
RETURN mx.name AS matrix, ta.shortname AS shortname, ta.attack_id AS id, ta.name AS name,
       h.order AS order,
       COUNT {
         MATCH (t:Technique)-[:IN_TACTIC]->(ta)
         WHERE NOT coalesce(t.revoked, false) AND NOT coalesce(t.deprecated, false)
       } AS techniques
ORDER BY matrix, order
