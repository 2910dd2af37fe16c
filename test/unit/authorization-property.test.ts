import fc from 'fast-check';
import { SignJWT } from 'jose';
import { createAuthorizer, type Authorizer } from '../../src/auth/authorization';
import { createTokenVerifier, type TokenVerifier } from '../../src/auth/identity';
import { loadConfig } from '../../src/shared/config';
import { GRANTS } from '../support/grants';

const SECRET = 'property-secret-property-secret-0123';
const RUNS = Number(process.env.TTPGRAPH_PROPERTY_RUNS ?? 300);

const ROLE_NAMES = [...Object.keys(GRANTS), 'superuser'];
// Every permission some role has, and those no token role has (superuser only, or nobody).
const PERMISSIONS = [
  ...new Set(Object.values(GRANTS).flat()),
  'attack:write',
  'status-details:read',
  'imports:create',
  'sync:create',
  'sync:read',
];

// Subjects and role names an attacker would try: every role name, bare and namespaced, and noise.
const nameLike = fc.oneof(
  fc.constantFrom(
    ...ROLE_NAMES,
    ...ROLE_NAMES.map((r) => `role:${r}`),
    ...ROLE_NAMES.map((r) => `user:${r}`),
    ...ROLE_NAMES.map((r) => r.toUpperCase()),
    '*',
    'adminsentinel',
    'root',
  ),
  fc.string({ minLength: 1, maxLength: 12 }),
);
// A superuser claim that is not exactly `true` must not count.
const notTrue = fc.constantFrom(undefined, false, 'true', 1, 'yes', [true], { value: true });

let authorizer: Authorizer;
let verify: TokenVerifier;

beforeAll(async () => {
  authorizer = await createAuthorizer();
  const config = loadConfig({ JWT_SECRET: SECRET });
  verify = createTokenVerifier(config.auth, { tokenRoles: authorizer.tokenRoles });
});

async function sign(payload: Record<string, unknown>, sub: string): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

describe('no token gets more than its roles grant', () => {
  it('for any subject, role list and superuser claim short of true', async () => {
    await fc.assert(
      fc.asyncProperty(
        nameLike,
        fc.array(nameLike, { maxLength: 5 }),
        notTrue,
        fc.constantFrom('acme', 'globex', '*'),
        async (sub, roles, superuserClaim, tenant) => {
          const payload: Record<string, unknown> = { roles, tenant: 'acme' };
          if (superuserClaim !== undefined) payload.is_superuser = superuserClaim;
          const identity = await verify(await sign(payload, sub));
          expect(identity.superuser).toBe(false);
          const granted = new Set(roles.flatMap((r) => GRANTS[r] ?? []));
          for (const permission of PERMISSIONS) {
            const [resource, action] = permission.split(':') as [string, string];
            const allowed = await authorizer.can(identity, tenant, resource, action);
            if (allowed && !granted.has(permission)) {
              throw new Error(
                `sub ${JSON.stringify(sub)} with roles ${JSON.stringify(roles)} got ${permission}`,
              );
            }
            expect(allowed).toBe(granted.has(permission));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a superuser comes only from the superuser claim set to true', async () => {
    const bySub = await verify(await sign({ roles: [] }, 'superuser'));
    const byRole = await verify(await sign({ roles: ['superuser', 'role:superuser'] }, 'x'));
    const byClaim = await verify(await sign({ roles: [], is_superuser: true }, 'x'));
    expect(await authorizer.can(bySub, '*', 'imports', 'create')).toBe(false);
    expect(await authorizer.can(byRole, '*', 'imports', 'create')).toBe(false);
    expect(byRole.roles).toEqual([]);
    expect(await authorizer.can(byClaim, '*', 'imports', 'create')).toBe(true);
  });

  it('the roles a token may carry are the policy roles except superuser', () => {
    expect([...authorizer.tokenRoles].sort()).toEqual(['admin', 'analyst', 'viewer']);
  });
});
