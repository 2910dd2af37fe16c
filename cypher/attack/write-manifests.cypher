// The manifests of this release (the importing domain's, or every domain's after a rebuild).
UNWIND $rows AS m
MERGE (d:AttackDomain {name: m.domain})
SET d.manifest = m.text
