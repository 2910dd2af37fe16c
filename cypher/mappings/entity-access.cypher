// The access settings of the named entities of the tenant and of every incident and alert each is
// part of (itself first): what auth/policy.csv's entity rules decide on. Entities that do not exist
// return no row. One branch per static label (index).
UNWIND $entities AS ref
CALL (ref) {
  WITH ref WHERE ref.label = 'Alert'
  MATCH (x:Alert {tenant: $tenant, id: ref.id}) RETURN x
  UNION
  WITH ref WHERE ref.label = 'Incident'
  MATCH (x:Incident {tenant: $tenant, id: ref.id}) RETURN x
  UNION
  WITH ref WHERE ref.label = 'Observable'
  MATCH (x:Observable {tenant: $tenant, id: ref.id}) RETURN x
}
RETURN ref.label AS label, ref.id AS id,
       [a IN [x] + COLLECT { MATCH (x)-[:PART_OF]->{1,2}(p) RETURN DISTINCT p } | {
         visibility: coalesce(a.visibility, 'tenant'), owner: a.owner,
         read_groups: coalesce(a.read_groups, []), edit_groups: coalesce(a.edit_groups, []),
         created_by: a.created_by
       }] AS chain
