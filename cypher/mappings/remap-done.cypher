// The remap after the releases applied so far is done (in the remap's own transaction).
MATCH (d:AttackDomain)
WHERE d.remap_pending
REMOVE d.remap_pending
RETURN count(d) AS done
