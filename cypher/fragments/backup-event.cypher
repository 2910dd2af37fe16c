// Fragment, included as @backup-event(n) after a backup statement's MATCH: audit event <x> in id
// order (its uniqueness index's), with its properties and the mapping it is of, if any.
WITH <x> ORDER BY <x>.id
RETURN <x>.id AS id, @typed-props(<x>) AS props,
       [(m:Mapping)-[:HAS_EVENT]->(<x>) | m.id][0] AS mapping
