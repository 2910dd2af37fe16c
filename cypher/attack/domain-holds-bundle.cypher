// Whether some domain's last import was of exactly these bytes (then nothing will be diffed).
OPTIONAL MATCH (d:AttackDomain {sha256: $sha256})
RETURN d IS NOT NULL AS held
LIMIT 1
