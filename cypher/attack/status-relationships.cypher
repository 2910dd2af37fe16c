// STIX relationships by relationship_type, and the edges the model derives, by edge type.
MATCH (:AttackObject)-[r]->(:AttackObject)
RETURN CASE WHEN r.derived THEN 'derived' ELSE 'stix' END AS kind,
       coalesce(r.relationship_type, type(r)) AS type, count(*) AS count
ORDER BY kind DESC, type
