import path from 'node:path';
import { newEnforcer, type Enforcer } from 'casbin';
import { packageRoot } from '../shared/paths';
import type { Identity } from './identity';

/** The only place where permissions are decided: Casbin, from auth/model.conf and auth/policy.csv. */
export interface Authorizer {
  can(identity: Identity, tenant: string, resource: string, action: string): Promise<boolean>;
}

export async function createAuthorizer(
  modelFile = path.join(packageRoot(), 'auth', 'model.conf'),
  policyFile = path.join(packageRoot(), 'auth', 'policy.csv'),
): Promise<Authorizer> {
  const enforcer: Enforcer = await newEnforcer(modelFile, policyFile);
  return {
    async can(identity, tenant, resource, action) {
      // The user id first (policy g lines may grant a user roles), then each role the token carries.
      for (const subject of [identity.userId, ...identity.roles]) {
        if (await enforcer.enforce(subject, tenant, resource, action)) return true;
      }
      return false;
    },
  };
}
