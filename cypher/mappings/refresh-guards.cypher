// After an entity's access or parent links changed: the guards (see fragments/readable) of it and
// of everything part of it (its alerts, their observables), and of their mappings. Each restricted
// entity on the way up gives one guard: its owner and read and edit groups as principals.
UNWIND $entities AS element
MATCH (e) WHERE elementId(e) = element
MATCH (d)-[:PART_OF]->{0,2}(e)
WITH DISTINCT d
WITH d, [a IN [d] + COLLECT { MATCH (d)-[:PART_OF]->{1,2}(p) RETURN DISTINCT p }
         WHERE a.visibility = 'restricted' |
         reduce(s = 'user:' + coalesce(a.owner, ''),
                g IN coalesce(a.read_groups, []) + coalesce(a.edit_groups, []) |
                s + $sep + 'group:' + g)] AS guards
WITH d, CASE WHEN guards = [] THEN null ELSE guards END AS guards
WHERE (d.guards IS NULL) <> (guards IS NULL) OR d.guards <> guards
SET d.guards = guards
WITH d
MATCH (d)-[:HAS_MAPPING]->(m:Mapping)
SET m.guards = d.guards
WITH m
OPTIONAL MATCH (m)-[:HAS_EVENT]->(ev:MappingEvent)
SET ev.guards = m.guards
RETURN count(DISTINCT m) AS mappings
