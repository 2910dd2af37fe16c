// Active means neither revoked nor deprecated; a revoked object that is also deprecated counts as revoked.
MATCH (n:AttackObject)
WHERE n.removed IS NULL
RETURN n.type AS type, count(*) AS total,
       sum(CASE WHEN n.revoked THEN 1 ELSE 0 END) AS revoked,
       sum(CASE WHEN n.deprecated AND NOT n.revoked THEN 1 ELSE 0 END) AS deprecated,
       sum(CASE WHEN NOT n.revoked AND NOT n.deprecated THEN 1 ELSE 0 END) AS active
ORDER BY type
