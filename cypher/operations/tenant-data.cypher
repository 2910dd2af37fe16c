// How much tenant data the database holds (a restore needs none), by label.
CALL () { MATCH (n:Alert) RETURN 'Alert' AS label, count(n) AS n
  UNION ALL MATCH (n:Incident) RETURN 'Incident' AS label, count(n) AS n
  UNION ALL MATCH (n:Observable) RETURN 'Observable' AS label, count(n) AS n
  UNION ALL MATCH (n:Mapping) RETURN 'Mapping' AS label, count(n) AS n
  UNION ALL MATCH (n:MappingEvent) RETURN 'MappingEvent' AS label, count(n) AS n
  UNION ALL MATCH (n:EntityEvent) RETURN 'EntityEvent' AS label, count(n) AS n }
RETURN label, n
