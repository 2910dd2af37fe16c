// Fragment, included as @typed-props(n): every property of <x> as {k, t, v} with its Cypher type
// (valueType), numbers and temporals as their exact string forms, so that a restore brings each
// back with the same type and value (JSON has neither integers apart from floats nor dates).
[k IN keys(<x>) | {k: k, t: valueType(<x>[k]), v: CASE
  WHEN valueType(<x>[k]) STARTS WITH 'LIST' THEN
    [i IN <x>[k] | CASE WHEN valueType(i) STARTS WITH 'STRING' OR valueType(i) STARTS WITH 'BOOLEAN'
                        THEN i ELSE toString(i) END]
  WHEN valueType(<x>[k]) STARTS WITH 'STRING' OR valueType(<x>[k]) STARTS WITH 'BOOLEAN' THEN <x>[k]
  ELSE toString(<x>[k]) END}]
