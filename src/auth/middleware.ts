import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { header as headerOf } from '../http/front-door';
import { ForbiddenError, UnauthorizedError } from '../shared/errors';
import type { Authorizer } from './authorization';
import type { Identity, TokenVerifier } from './identity';

export interface AuthContext {
  identity: Identity;
  /** The tenant this request acts in: the token's, or the one X-Tenant names among them. */
  tenant: string;
  /** Permissions recorded by grants(): what the handler may show beyond the route's own. */
  granted: Set<string>;
}

declare module 'express-serve-static-core' {
  interface Request {
    auth?: AuthContext;
  }
}

const TENANT_HEADER = 'x-tenant';
// Superusers without a tenant act across tenants; "*" is how the policy spells that.
const ANY_TENANT = '*';

/** Bearer JWT → req.auth (once per request); no token or a bad one is a 401 with a challenge. */
export function authenticate(verify: TokenVerifier): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    if (req.auth) return next();
    const header = headerOf(req, 'authorization');
    const match = header ? /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new UnauthorizedError(
        header ? 'the Authorization header is not a Bearer token' : 'a Bearer token is required',
      );
    }
    const identity = await verify(match[1]);
    const asked = headerOf(req, TENANT_HEADER);
    let tenant: string;
    if (asked !== undefined && asked !== '') {
      if (!identity.superuser && !identity.tenants.includes(asked)) {
        throw new ForbiddenError(`the token does not grant access to tenant ${asked}`);
      }
      tenant = asked;
    } else {
      tenant = identity.tenants[0] ?? (identity.superuser ? ANY_TENANT : '');
    }
    req.auth = { identity, tenant, granted: new Set() };
    next();
  };
}

/** The route's permission, decided by Casbin: denied means 403. */
export function authorize(
  authorizer: Authorizer,
  resource: string,
  action: string,
): RequestHandler {
  authorizer.declare(resource, action);
  return async (req: Request, _res: Response, next: NextFunction) => {
    const auth = req.auth;
    if (!auth) throw new UnauthorizedError('a Bearer token is required');
    if (!(await authorizer.can(auth.identity, auth.tenant, resource, action)))
      throw new ForbiddenError();
    next();
  };
}

/** Records whether Casbin grants an extra permission (never denies): the handler reads req.auth.granted. */
export function grants(authorizer: Authorizer, resource: string, action: string): RequestHandler {
  authorizer.declare(resource, action);
  return async (req: Request, _res: Response, next: NextFunction) => {
    const auth = req.auth;
    if (auth && (await authorizer.can(auth.identity, auth.tenant, resource, action))) {
      auth.granted.add(`${resource}:${action}`);
    }
    next();
  };
}

/**
 * Allowed when Casbin grants any of the actions (e.g. update-any or update-own); the ones granted
 * are recorded for the service to scope the operation.
 */
export function authorizeAny(
  authorizer: Authorizer,
  resource: string,
  actions: string[],
): RequestHandler {
  for (const action of actions) authorizer.declare(resource, action);
  return async (req: Request, _res: Response, next: NextFunction) => {
    const auth = req.auth;
    if (!auth) throw new UnauthorizedError('a Bearer token is required');
    for (const action of actions) {
      if (await authorizer.can(auth.identity, auth.tenant, resource, action))
        auth.granted.add(`${resource}:${action}`);
    }
    if (!actions.some((a) => auth.granted.has(`${resource}:${a}`))) throw new ForbiddenError();
    next();
  };
}

/**
 * `GET me/`: who the token says the caller is, and which of the routes' permissions Casbin grants
 * it in the tenant it acts in — so a client (the console) shows only what the caller may do.
 */
export function callerHandler(authorizer: Authorizer): RequestHandler {
  return async (req: Request, res: Response) => {
    const auth = req.auth;
    if (!auth) throw new UnauthorizedError('a Bearer token is required');
    const { identity, tenant } = auth;
    res.set('cache-control', 'no-store').json({
      subject: identity.userId,
      tenant,
      tenants: identity.tenants,
      roles: identity.roles,
      superuser: identity.superuser,
      groups: identity.groups,
      permissions: await authorizer.permissions(identity, tenant),
    });
  };
}
