// The next-step model's learnt weights: technique → technique, strongest first per technique.
UNWIND $rows AS row
MATCH (a:AttackObject {stix_id: row.from})
MATCH (b:AttackObject {stix_id: row.to})
CREATE (a)-[:SUGGESTS {weight: row.weight}]->(b)
