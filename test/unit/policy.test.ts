import fc from 'fast-check';
import { createAuthorizer, type Authorizer, type EntityAccess } from '../../src/auth/authorization';
import type { Identity } from '../../src/auth/identity';

// The policy as a table: role × resource × action → allowed. A change to auth/policy.csv shows here.
const TABLE: Array<[string, string, string, boolean]> = [
  ['superuser', 'attack', 'read', true],
  ['superuser', 'status', 'read', true],
  ['superuser', 'status-details', 'read', true],
  ['superuser', 'imports', 'create', true],
  ['superuser', 'sync', 'create', true],
  ['admin', 'attack', 'read', true],
  ['admin', 'status', 'read', true],
  ['admin', 'status-details', 'read', false],
  ['admin', 'imports', 'create', false],
  ['analyst', 'attack', 'read', true],
  ['analyst', 'attack', 'write', false],
  ['analyst', 'status', 'read', true],
  ['analyst', 'status-details', 'read', false],
  ['analyst', 'imports', 'create', false],
  ['viewer', 'attack', 'read', true],
  ['viewer', 'status', 'read', true],
  ['viewer', 'imports', 'create', false],
  ['stranger', 'attack', 'read', false],
  ['superuser', 'mappings', 'delete-any', true],
  ['admin', 'mappings', 'read', true],
  ['admin', 'mappings', 'create', true],
  ['admin', 'mappings', 'update-any', true],
  ['admin', 'mappings', 'delete-any', true],
  ['analyst', 'mappings', 'read', true],
  ['analyst', 'mappings', 'create', true],
  ['analyst', 'mappings', 'update-own', true],
  ['analyst', 'mappings', 'update-any', false],
  ['analyst', 'mappings', 'delete-own', true],
  ['analyst', 'mappings', 'delete-any', false],
  ['viewer', 'mappings', 'read', true],
  ['viewer', 'mappings', 'create', false],
  ['viewer', 'mappings', 'update-own', false],
  ['viewer', 'mappings', 'delete-own', false],
  ['admin', 'entity-access', 'manage', true],
  ['analyst', 'entity-access', 'manage', false],
  ['viewer', 'entity-access', 'manage', false],
];

let authorizer: Authorizer;
beforeAll(async () => {
  authorizer = await createAuthorizer();
});

const who = (role: string): Identity => ({
  userId: `u-${role}`,
  tenants: ['acme'],
  roles: [role],
  superuser: role === 'superuser',
  groups: [],
});

describe('the Casbin policy', () => {
  it.each(TABLE)('%s on %s/%s → %s', async (role, resource, action, allowed) => {
    expect(await authorizer.can(who(role), 'acme', resource, action)).toBe(allowed);
    expect(await authorizer.can(who(role), 'globex', resource, action)).toBe(allowed);
  });

  it('allows when any of several roles allows', async () => {
    const both: Identity = {
      userId: 'x',
      tenants: ['acme'],
      roles: ['stranger', 'viewer'],
      superuser: false,
      groups: [],
    };
    expect(await authorizer.can(both, 'acme', 'attack', 'read')).toBe(true);
  });
});

const GROUPS = ['red', 'blue', 'green'];
const settings = fc.record({
  visibility: fc.constantFrom('tenant' as const, 'restricted' as const),
  owner: fc.option(fc.constantFrom('u1', 'u2'), { nil: null }),
  read_groups: fc.subarray(GROUPS),
  edit_groups: fc.subarray(GROUPS),
  created_by: fc.constantFrom('u1', 'u3'),
});
const caller = fc.record({
  userId: fc.constantFrom('u1', 'u2', 'u3'),
  groups: fc.subarray(GROUPS),
  superuser: fc.boolean(),
  scope: fc.constantFrom('own' as const, 'any' as const, null),
});

describe('the entity access rules', () => {
  // The rule as README states it, written plainly: what the policy's p2 lines must decide.
  type Caller = {
    userId: string;
    groups: string[];
    superuser: boolean;
    scope: 'own' | 'any' | null;
  };
  const opens = (v: Caller, e: EntityAccess) =>
    v.superuser ||
    e.visibility !== 'restricted' ||
    e.owner === v.userId ||
    [...e.read_groups, ...e.edit_groups].some((g) => v.groups.includes(g));
  const edits = (v: Caller, e: EntityAccess) =>
    v.superuser ||
    e.owner === v.userId ||
    e.edit_groups.some((g) => v.groups.includes(g)) ||
    (e.visibility !== 'restricted' && e.edit_groups.length === 0);
  const shares = (v: Caller, e: EntityAccess) =>
    v.superuser ||
    e.owner === v.userId ||
    e.edit_groups.some((g) => v.groups.includes(g)) ||
    v.scope === 'any' ||
    (v.scope === 'own' && e.created_by === v.userId);

  it('read, edit and share decide as the rules say, along the whole chain', async () => {
    await fc.assert(
      fc.asyncProperty(
        caller,
        fc.array(settings, { minLength: 1, maxLength: 3 }),
        async (v, chain) => {
          const readable = chain.every((e) => opens(v, e));
          expect(await authorizer.entity(v, 'read', chain)).toBe(readable);
          expect(await authorizer.entity(v, 'edit', chain)).toBe(
            readable && edits(v, chain[0] as EntityAccess),
          );
          expect(await authorizer.entity(v, 'share', chain)).toBe(
            readable && shares(v, chain[0] as EntityAccess),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
