// A batch of PART_OF links of restored entities: {label, tenant, id, parent: {label, id}}.
UNWIND $rows AS row
CALL (row) {
  WITH row WHERE row.label = 'Alert'
  MATCH (n:Alert {tenant: row.tenant, id: row.id}) RETURN n
  UNION
  WITH row WHERE row.label = 'Observable'
  MATCH (n:Observable {tenant: row.tenant, id: row.id}) RETURN n
}
CALL (row) {
  WITH row WHERE row.parent.label = 'Alert'
  MATCH (p:Alert {tenant: row.tenant, id: row.parent.id}) RETURN p
  UNION
  WITH row WHERE row.parent.label = 'Incident'
  MATCH (p:Incident {tenant: row.tenant, id: row.parent.id}) RETURN p
}
CREATE (n)-[:PART_OF]->(p)
RETURN count(*) AS restored
