// A request's new observables with their mappings and the creation events of both, created outright as
// a bare UNWIND … CREATE would: this transaction's read found none of them, so nothing is merged,
// and their mappings cannot exist (a mapping's key names its entity). A concurrent request that
// creates one first makes this statement fail on the uniqueness constraints, and the service runs
// the request again, when it exists. Only entities with no restriction involved come here (their
// guards stay null); their parents exist (create-parents). One statement per label: a statement
// that could create the label it reads parents by would need an Eager barrier.
UNWIND $entities AS row
OPTIONAL MATCH (i:Incident {tenant: $tenant, id: row.incidentId})
OPTIONAL MATCH (a:Alert {tenant: $tenant, id: row.alertId})
CREATE (e:Observable {tenant: $tenant, id: row.id, type: row.props.type, value: row.props.value,
                      created_by: $actor, created_at: datetime($now)})
FOREACH (p IN CASE WHEN i IS NULL THEN [] ELSE [i] END | CREATE (e)-[:PART_OF]->(p))
FOREACH (p IN CASE WHEN a IS NULL THEN [] ELSE [a] END | CREATE (e)-[:PART_OF]->(p))
@fresh-entity(e)
