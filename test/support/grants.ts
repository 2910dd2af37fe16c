/**
 * What each role grants, written out by hand from the README's table. Tests use it as their
 * oracle: it does not read auth/policy.csv, so a policy or code change that widens a grant fails.
 */
export const GRANTS: Record<string, string[]> = {
  viewer: ['attack:read', 'status:read', 'mappings:read'],
  analyst: [
    'attack:read',
    'status:read',
    'mappings:read',
    'mappings:create',
    'mappings:update-own',
    'mappings:delete-own',
    'entities:update-own',
  ],
  admin: [
    'attack:read',
    'status:read',
    'mappings:read',
    'mappings:create',
    'mappings:update-own',
    'mappings:update-any',
    'mappings:delete-own',
    'mappings:delete-any',
    'entities:update-own',
    'entities:update-any',
  ],
};

/** Whether a caller with these token roles (and superuser claim) holds a permission. */
export function granted(roles: string[], superuser: boolean, permission: string): boolean {
  return superuser || roles.some((r) => GRANTS[r]?.includes(permission) === true);
}
