// The data version the next-step model was built from (no row when none was built yet; null when
// it was kept in another format than this service's).
MATCH (m:SuggestionModel {name: 'next-steps'})
RETURN CASE WHEN m.format = $format THEN m.data_version END AS built
