import path from 'node:path';
import { newEnforcer, type Enforcer } from 'casbin';
import { packageRoot } from '../shared/paths';
import type { Identity } from './identity';

const MAX_CACHED_DECISIONS = 50_000;

/** The only place where permissions are decided: Casbin, from auth/model.conf and auth/policy.csv. */
export interface Authorizer {
  can(identity: Identity, tenant: string, resource: string, action: string): Promise<boolean>;
}

export async function createAuthorizer(
  modelFile = path.join(packageRoot(), 'auth', 'model.conf'),
  policyFile = path.join(packageRoot(), 'auth', 'policy.csv'),
): Promise<Authorizer> {
  const enforcer: Enforcer = await newEnforcer(modelFile, policyFile);
  // The policy is read once at start, so a decision never changes while the process runs.
  const decisions = new Map<string, boolean>();
  const decide = async (subject: string, tenant: string, resource: string, action: string) => {
    const key = JSON.stringify([subject, tenant, resource, action]);
    let allowed = decisions.get(key);
    if (allowed === undefined) {
      allowed = await enforcer.enforce(subject, tenant, resource, action);
      if (decisions.size >= MAX_CACHED_DECISIONS) decisions.clear();
      decisions.set(key, allowed);
    }
    return allowed;
  };
  return {
    async can(identity, tenant, resource, action) {
      // The user id first (policy g lines may grant a user roles), then each role the token carries.
      for (const subject of [identity.userId, ...identity.roles]) {
        if (await decide(subject, tenant, resource, action)) return true;
      }
      return false;
    },
  };
}
