import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
  type JWTPayload,
} from 'jose';
import { ConfigError, type AuthConfig } from '../shared/config';
import { UnauthorizedError } from '../shared/errors';
import type { Logger } from '../shared/logger';

/**
 * Without JWT_SECRET or JWT_JWKS_URL, a local setup still has to start (`npm start`): it uses a
 * random secret kept in the data directory (mode 0600), which `ttpgraph token` reads too.
 * Production sets JWT_JWKS_URL.
 */
export function withDevelopmentSecret(
  cfg: AuthConfig,
  dataDir: string,
): { auth: AuthConfig; generated: boolean } {
  if (cfg.secret || cfg.jwksUrl) return { auth: cfg, generated: false };
  const file = path.join(dataDir, 'jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { auth: { ...cfg, secret: readFileSync(file, 'utf8').trim() }, generated: true };
}

/** Who is calling, as the verified token says. */
export interface Identity {
  userId: string;
  tenants: string[];
  /** The token's roles that the policy defines (never the superuser role: see `superuser`). */
  roles: string[];
  /** Only from the configured superuser claim (JWT_CLAIM_SUPERUSER) set to true. */
  superuser: boolean;
  /** The teams the user is in (JWT_CLAIM_GROUPS): what restricted entities are shared with. */
  groups: string[];
}

/** What the verifier needs of the policy, and where it says what a token claimed in vain. */
export interface VerifierOptions {
  /** The role names the policy defines for tokens; any other is ignored. */
  tokenRoles: ReadonlySet<string>;
  log?: Logger;
}

export type TokenVerifier = (token: string) => Promise<Identity>;

const MAX_CACHED_TOKENS = 10_000;

const ASYMMETRIC = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

function strings(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  return Array.isArray(value)
    ? value.filter((v): v is string => typeof v === 'string' && v !== '')
    : [];
}

function identityFrom(payload: JWTPayload, cfg: AuthConfig, opts: VerifierOptions): Identity {
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new UnauthorizedError('the token has no subject (sub)');
  }
  const claimed = [...new Set(strings(payload[cfg.claims.roles]))];
  const roles = claimed.filter((r) => opts.tokenRoles.has(r));
  const ignored = claimed.filter((r) => !opts.tokenRoles.has(r));
  if (ignored.length > 0) {
    opts.log?.warn(
      { sub: payload.sub, ignored, known: [...opts.tokenRoles] },
      'token roles that the policy does not define are ignored',
    );
  }
  return {
    userId: payload.sub,
    tenants: [
      ...new Set([...strings(payload[cfg.claims.tenant]), ...strings(payload[cfg.claims.tenants])]),
    ],
    roles,
    superuser: payload[cfg.claims.superuser] === true,
    groups: [...new Set(strings(payload[cfg.claims.groups]))],
  };
}

/** A token must say when it expires, and not further away than JWT_MAX_LIFETIME. */
function checkLifetime(payload: JWTPayload, cfg: AuthConfig): number {
  if (typeof payload.exp !== 'number') throw new UnauthorizedError('the token has no expiry (exp)');
  const from = typeof payload.iat === 'number' ? payload.iat * 1000 : Date.now();
  const lifetime = payload.exp * 1000 - Math.min(from, Date.now());
  if (lifetime > cfg.maxLifetimeMs + cfg.clockToleranceMs) {
    throw new UnauthorizedError(
      `the token lives longer than the ${cfg.maxLifetimeMs / 1000} s that JWT_MAX_LIFETIME allows`,
    );
  }
  return payload.exp * 1000;
}

/**
 * Verifies bearer JWTs: against a JWKS URL (production: asymmetric keys, issuer and audience) or,
 * for development, an HS256 secret. Any failure is a 401 that says why without echoing the token.
 */
export function createTokenVerifier(cfg: AuthConfig, opts: VerifierOptions): TokenVerifier {
  if (!cfg.jwksUrl && !cfg.secret) {
    throw new ConfigError(
      'no token verification configured: set JWT_JWKS_URL (production) or JWT_SECRET (development)',
    );
  }
  const key = cfg.jwksUrl
    ? createRemoteJWKSet(new URL(cfg.jwksUrl))
    : new TextEncoder().encode(cfg.secret);
  const options = {
    algorithms: cfg.jwksUrl ? ASYMMETRIC : ['HS256'],
    issuer: cfg.issuer,
    audience: cfg.audience,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: Math.round(cfg.clockToleranceMs / 1000),
  };
  // A token verified once stays valid until it expires: repeat requests skip the signature check.
  const verified = new Map<string, { identity: Identity; expiresAt: number }>();
  return async (token) => {
    const hit = verified.get(token);
    if (hit && hit.expiresAt > Date.now()) return hit.identity;
    const identity = await verifyOnce(token);
    if (verified.size >= MAX_CACHED_TOKENS) verified.clear();
    verified.set(token, { identity: identity.identity, expiresAt: identity.expiresAt });
    return identity.identity;
  };

  async function verifyOnce(token: string): Promise<{ identity: Identity; expiresAt: number }> {
    try {
      const { payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, key, options);
      const exp = checkLifetime(payload, cfg);
      // Re-checked after a minute at most: a JWKS key may have been rotated away.
      const expiresAt = Math.min(exp, Date.now() + 60_000);
      return { identity: identityFrom(payload, cfg, opts), expiresAt };
    } catch (err) {
      if (err instanceof UnauthorizedError) throw err;
      if (err instanceof joseErrors.JWTExpired)
        throw new UnauthorizedError('the token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        throw new UnauthorizedError(
          err.reason === 'missing'
            ? `the token has no ${err.claim} claim`
            : `the token's ${err.claim} claim is not accepted`,
        );
      }
      throw new UnauthorizedError('the token is not valid');
    }
  }
}

/** A development token signed with JWT_SECRET (`ttpgraph token`); refused when only JWKS is set. */
export async function signDevelopmentToken(
  cfg: AuthConfig,
  claims: {
    sub: string;
    tenants: string[];
    roles: string[];
    superuser: boolean;
    groups?: string[];
  },
  ttlSeconds: number,
): Promise<string> {
  if (!cfg.secret) {
    throw new ConfigError(
      'JWT_SECRET is not set: development tokens need it (a JWKS setup takes tokens from its identity provider)',
    );
  }
  const payload: JWTPayload = {
    [cfg.claims.roles]: claims.roles,
    [cfg.claims.superuser]: claims.superuser,
  };
  if (claims.groups?.length) payload[cfg.claims.groups] = claims.groups;
  if (claims.tenants.length === 1) payload[cfg.claims.tenant] = claims.tenants[0];
  else if (claims.tenants.length > 1) payload[cfg.claims.tenants] = claims.tenants;
  let jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
  if (cfg.issuer) jwt = jwt.setIssuer(cfg.issuer);
  if (cfg.audience) jwt = jwt.setAudience(cfg.audience);
  return jwt.sign(new TextEncoder().encode(cfg.secret));
}
