// Each technique's popularity among ATT&CK's actors (the most used has 1).
UNWIND $rows AS row
MATCH (t:AttackObject {stix_id: row.id})
SET t.suggest_prior = row.prior
