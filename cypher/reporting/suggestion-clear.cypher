// The previous next-step model goes before its successor is written (in the same transaction).
MATCH (:Technique)-[s:SUGGESTS]->(:Technique)
DELETE s
WITH count(*) AS removed
MATCH (t:Technique)
WHERE t.suggest_prior IS NOT NULL OR t.suggest_prior_technique IS NOT NULL
   OR t.suggest_prior_mixed IS NOT NULL
REMOVE t.suggest_prior, t.suggest_prior_technique, t.suggest_prior_mixed
RETURN removed
