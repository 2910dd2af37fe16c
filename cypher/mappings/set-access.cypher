// Sets one entity's access settings and audits the change (the guards follow: refresh-guards).
CALL () {
  WITH 1 AS one WHERE $label = 'Alert'
  MATCH (x:Alert {tenant: $tenant, id: $id}) RETURN x
  UNION
  WITH 1 AS one WHERE $label = 'Incident'
  MATCH (x:Incident {tenant: $tenant, id: $id}) RETURN x
  UNION
  WITH 1 AS one WHERE $label = 'Observable'
  MATCH (x:Observable {tenant: $tenant, id: $id}) RETURN x
}
SET x.visibility = $access.visibility, x.owner = $access.owner,
    x.read_groups = $access.read_groups, x.edit_groups = $access.edit_groups
CREATE (:EntityEvent {id: $eventId, tenant: $tenant, kind: $kind, entity_id: $id,
        action: 'access-changed', actor: $actor, at: datetime($now), changes: $diff})
RETURN elementId(x) AS element
