// The data version the next-step model was built from (no row when none was built yet).
MATCH (m:SuggestionModel {name: 'next-steps'})
RETURN m.data_version AS built
