// Fragment, included as @readable(x) (x: a mapping or an entity, which carry the same guards):
// whether the caller may read it. `guards` holds one entry per restricted entity on the way up
// from the mapped entity (itself, then the alerts and incidents it is part of), each the
// principals that may read that entity joined by $sep; the caller must be among the principals
// of every one. $principals: 'user:<sub>' and 'group:<name>' for each of the caller's groups.
($superuser OR <x>.guards IS NULL
  OR all(guard IN <x>.guards WHERE any(p IN split(guard, $sep) WHERE p IN $principals)))
