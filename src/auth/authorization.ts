import path from 'node:path';
import { newEnforceContext, newEnforcer, type Enforcer } from 'casbin';
import { packageRoot } from '../shared/paths';
import type { Viewer } from './access';
import type { Identity } from './identity';

const MAX_CACHED_DECISIONS = 50_000;

/** The role a token gets only from the configured superuser claim, never from its roles claim. */
export const SUPERUSER_ROLE = 'superuser';

const USER = 'user:';
const ROLE = 'role:';

/** The only place where permissions are decided: Casbin, from auth/model.conf and auth/policy.csv. */
export interface Authorizer {
  can(identity: Identity, tenant: string, resource: string, action: string): Promise<boolean>;
  /** The role names the policy defines that a token may carry (superuser excluded). */
  readonly tokenRoles: ReadonlySet<string>;
  /** Records a permission a route asks for (the middleware does, as routes are built). */
  declare(resource: string, action: string): void;
  /** Of the permissions the routes ask for, those Casbin grants the caller, as `resource:action`. */
  permissions(identity: Identity, tenant: string): Promise<string[]>;
  /**
   * Entity access (the policy's p2 rules): `chain` is the entity then every incident and alert it
   * is part of. Read: each passes `read`; edit or share: that, and the entity itself passes the
   * action (share also looks at the role's reach over entities, `scope`).
   */
  entity(
    viewer: Viewer & { scope?: 'own' | 'any' | null },
    action: EntityAction,
    chain: EntityAccess[],
  ): Promise<boolean>;
}

export type EntityAction = 'read' | 'edit' | 'share';

/** An entity's access settings as the graph holds them (absent fields: visible to the tenant). */
export interface EntityAccess {
  visibility: 'tenant' | 'restricted';
  owner: string | null;
  read_groups: string[];
  edit_groups: string[];
  /** Who created it (the share rule's own-scope test). */
  created_by?: string | null;
}

/** The Casbin subjects of a caller: the user, and each role the policy defines that it holds. */
export function subjectsOf(identity: Identity, tokenRoles: ReadonlySet<string>): string[] {
  const subjects = [`${USER}${identity.userId}`];
  for (const role of identity.roles) if (tokenRoles.has(role)) subjects.push(`${ROLE}${role}`);
  if (identity.superuser) subjects.push(`${ROLE}${SUPERUSER_ROLE}`);
  return subjects;
}

export async function createAuthorizer(
  modelFile = path.join(packageRoot(), 'auth', 'model.conf'),
  policyFile = path.join(packageRoot(), 'auth', 'policy.csv'),
): Promise<Authorizer> {
  const enforcer: Enforcer = await newEnforcer(modelFile, policyFile);
  // What the entity rules may call: whether two lists share an item, whether a list is empty.
  await enforcer.addFunction(
    'shares',
    (a: unknown, b: unknown) =>
      Array.isArray(a) && Array.isArray(b) && a.some((x) => b.includes(x)),
  );
  await enforcer.addFunction('none', (a: unknown) => !Array.isArray(a) || a.length === 0);
  const entityContext = newEnforceContext('2');
  const named = [
    ...(await enforcer.getAllSubjects()),
    ...(await enforcer.getAllRoles()),
    ...(await enforcer.getGroupingPolicy()).flat(),
  ];
  const tokenRoles = new Set(
    named
      .filter((s) => s.startsWith(ROLE))
      .map((s) => s.slice(ROLE.length))
      .filter((r) => r !== SUPERUSER_ROLE),
  );
  // The policy is read once at start, so a decision never changes while the process runs.
  const decisions = new Map<string, boolean>();
  const remembered = async (request: unknown[], enforce: () => Promise<boolean>) => {
    const key = JSON.stringify(request);
    let allowed = decisions.get(key);
    if (allowed === undefined) {
      allowed = await enforce();
      if (decisions.size >= MAX_CACHED_DECISIONS) decisions.clear();
      decisions.set(key, allowed);
    }
    return allowed;
  };
  const decide = (subject: string, tenant: string, resource: string, action: string) =>
    remembered([subject, tenant, resource, action], () =>
      enforcer.enforce(subject, tenant, resource, action),
    );
  const declared = new Set<string>();
  const can = async (identity: Identity, tenant: string, resource: string, action: string) => {
    for (const subject of subjectsOf(identity, tokenRoles)) {
      if (await decide(subject, tenant, resource, action)) return true;
    }
    return false;
  };
  return {
    tokenRoles,
    can,
    declare(resource, action) {
      declared.add(`${resource}:${action}`);
    },
    async permissions(identity, tenant) {
      const out: string[] = [];
      for (const p of [...declared].sort()) {
        const [resource = '', action = ''] = p.split(':');
        if (await can(identity, tenant, resource, action)) out.push(p);
      }
      return out;
    },
    async entity(viewer, action, chain) {
      const sub = {
        id: viewer.userId,
        groups: viewer.groups,
        superuser: viewer.superuser,
        scope: viewer.scope ?? null,
      };
      // A bulk asks about thousands of entities that share a few settings: decide each once.
      const allows = (obj: EntityAccess, act: EntityAction) =>
        remembered(['entity', sub, obj, act], () => enforcer.enforce(entityContext, sub, obj, act));
      for (const obj of chain) if (!(await allows(obj, 'read'))) return false;
      const self = chain[0];
      return action === 'read' || (self !== undefined && (await allows(self, action)));
    },
  };
}
