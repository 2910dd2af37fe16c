// Each technique's popularity among ATT&CK's actors (the most used has 1), as ATT&CK maps, with
// sub-techniques counted as their parents, and with half of them so (mixed).
UNWIND $rows AS row
MATCH (t:AttackObject {stix_id: row.id})
SET t.suggest_prior = row.prior, t.suggest_prior_technique = row.techniquePrior,
    t.suggest_prior_mixed = row.mixedPrior
