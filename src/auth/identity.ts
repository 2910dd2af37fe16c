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
  roles: string[];
  superuser: boolean;
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

function identityFrom(payload: JWTPayload, cfg: AuthConfig): Identity {
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new UnauthorizedError('the token has no subject (sub)');
  }
  const superuser = payload[cfg.claims.superuser] === true;
  const roles = strings(payload[cfg.claims.roles]);
  return {
    userId: payload.sub,
    tenants: [
      ...new Set([...strings(payload[cfg.claims.tenant]), ...strings(payload[cfg.claims.tenants])]),
    ],
    roles: superuser ? [...new Set([...roles, 'superuser'])] : roles,
    superuser,
  };
}

/**
 * Verifies bearer JWTs: against a JWKS URL (production: asymmetric keys, issuer and audience) or,
 * for development, an HS256 secret. Any failure is a 401 that says why without echoing the token.
 */
export function createTokenVerifier(cfg: AuthConfig): TokenVerifier {
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
    clockTolerance: 30,
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
      // Without exp a token is re-checked after a minute (a JWKS key may have been rotated away).
      const expiresAt = Math.min((payload.exp ?? Infinity) * 1000, Date.now() + 60_000);
      return { identity: identityFrom(payload, cfg), expiresAt };
    } catch (err) {
      if (err instanceof UnauthorizedError) throw err;
      if (err instanceof joseErrors.JWTExpired)
        throw new UnauthorizedError('the token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        throw new UnauthorizedError(`the token's ${err.claim} claim is not accepted`);
      }
      throw new UnauthorizedError('the token is not valid');
    }
  }
}

/** A development token signed with JWT_SECRET (`ttpgraph token`); refused when only JWKS is set. */
export async function signDevelopmentToken(
  cfg: AuthConfig,
  claims: { sub: string; tenants: string[]; roles: string[]; superuser: boolean },
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
