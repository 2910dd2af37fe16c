MATCH (a:AttackObject)-[r]->(b:AttackObject)
WHERE r.stix_id = $id
RETURN {stix_id: r.stix_id, relationship_type: r.relationship_type, description: r.description,
        created: r.created, modified: r.modified, revoked: r.revoked, deprecated: r.deprecated,
        stix: CASE WHEN $withStix THEN r.stix END,
        source: a {id: a.attack_id, .stix_id, .type, .name, .revoked, .deprecated},
        target: b {id: b.attack_id, .stix_id, .type, .name, .revoked, .deprecated}} AS relationship
LIMIT 1
