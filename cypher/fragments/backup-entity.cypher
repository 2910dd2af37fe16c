// Fragment, included as @backup-entity(n) after a backup statement's MATCH: entity <x> in
// (tenant, id) order — the order of its uniqueness constraint's index, so nothing is sorted or held
// in memory — with its properties and its parents.
WITH <x> ORDER BY <x>.tenant, <x>.id
RETURN <x>.tenant AS tenant, <x>.id AS id, @typed-props(<x>) AS props,
       [(<x>)-[:PART_OF]->(p) | {id: p.id, label: head(labels(p))}] AS parents
