// The model's record: the data version it was built from, so that a stale model is rebuilt.
MERGE (m:SuggestionModel {name: 'next-steps'})
SET m.data_version = $version, m.built_at = datetime(), m.actors = $actors, m.reports = $reports,
    m.edges = $edges, m.params = $params
