// Fragment, included as @restore-props(n) after `SET n = row.plain`: the typed properties of a
// backup row (see typed-props) set back with their types.
FOREACH (p IN row.typed | SET <x>[p.k] = CASE
  WHEN p.t STARTS WITH 'INTEGER' THEN toInteger(p.v)
  WHEN p.t STARTS WITH 'FLOAT' THEN toFloat(p.v)
  WHEN p.t STARTS WITH 'ZONED DATETIME' THEN datetime(p.v)
  WHEN p.t STARTS WITH 'LOCAL DATETIME' THEN localdatetime(p.v)
  WHEN p.t STARTS WITH 'DATE' THEN date(p.v)
  WHEN p.t STARTS WITH 'ZONED TIME' THEN time(p.v)
  WHEN p.t STARTS WITH 'LOCAL TIME' THEN localtime(p.v)
  WHEN p.t STARTS WITH 'DURATION' THEN duration(p.v)
  WHEN p.t STARTS WITH 'LIST<INTEGER' THEN [i IN p.v | toInteger(i)]
  WHEN p.t STARTS WITH 'LIST<FLOAT' THEN [i IN p.v | toFloat(i)]
  WHEN p.t STARTS WITH 'LIST<ZONED DATETIME' THEN [i IN p.v | datetime(i)]
  ELSE null END)
