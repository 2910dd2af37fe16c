// The next-step model's learnt weights: technique → technique, strongest first per technique, at
// each granularity (as ATT&CK maps; sub-techniques counted as their parents; half of them so).
UNWIND $rows AS row
MATCH (a:AttackObject {stix_id: row.from})
MATCH (b:AttackObject {stix_id: row.to})
CREATE (a)-[:SUGGESTS {weight: row.weight, granularity: row.granularity}]->(b)
