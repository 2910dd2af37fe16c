// How many domains hold a release. A domain node also carries sync status (last attempt, error),
// written by a failed first sync too: only an import sets its version.
MATCH (d:AttackDomain)
WHERE d.version IS NOT NULL
RETURN count(d) AS domains
