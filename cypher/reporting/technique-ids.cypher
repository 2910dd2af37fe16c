// Every technique's ATT&CK and STIX id: what a resolver read once answers every input with.
MATCH (t:Technique)
RETURN [x IN collect(t.attack_id) WHERE x IS NOT NULL] + collect(t.stix_id) AS ids
