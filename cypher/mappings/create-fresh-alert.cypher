// A request's new alerts with their mappings and the creation events of both, created outright as
// a bare UNWIND … CREATE would: this transaction's read found none of them, so nothing is merged,
// and their mappings cannot exist (a mapping's key names its entity). A concurrent request that
// creates one first makes this statement fail on the uniqueness constraints, and the service runs
// the request again, when it exists. Only entities with no restriction involved come here (their
// guards stay null); their parents exist (create-parents). One statement per label: a statement
// that could create the label it reads parents by would need an Eager barrier.
UNWIND $entities AS row
OPTIONAL MATCH (i:Incident {tenant: $tenant, id: row.incidentId})
CREATE (e:Alert {tenant: $tenant, id: row.id, title: row.props.title,
                 severity: row.props.severity, status: row.props.status,
                 created_by: $actor, created_at: datetime($now)})
FOREACH (p IN CASE WHEN i IS NULL THEN [] ELSE [i] END | CREATE (e)-[:PART_OF]->(p))
@fresh-entity(e)
