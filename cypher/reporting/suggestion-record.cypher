// The model's record: the data version it was built from and the shape it was kept in, so that a
// stale model, or one an older service wrote, is rebuilt.
MERGE (m:SuggestionModel {name: 'next-steps'})
SET m.data_version = $version, m.built_at = datetime(), m.actors = $actors, m.reports = $reports,
    m.edges = $edges, m.params = $params, m.format = $format
