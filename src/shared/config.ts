import path from 'node:path';
import cronValidate from 'cron-validate';
import { z } from 'zod';
import { packageRoot } from './paths';

const DEFAULT_INDEX_URL =
  'https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/index.json';
const DEFAULT_TAXII_URL = 'https://attack-taxii.mitre.org/api/v21/';

/** A Bree schedule: `off`, a human interval (`10m`, `1 hour`) or a 5/6-field cron expression. */
export type SyncSchedule =
  | { kind: 'off' }
  | { kind: 'interval'; value: string; ms: number }
  | { kind: 'cron'; value: string };

const DURATION = /^(\d+)\s*(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function durationMs(value: string): number {
  const d = DURATION.exec(value.trim()) as RegExpExecArray;
  return Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS];
}

function parseSchedule(value: string): SyncSchedule | null {
  const v = value.trim();
  if (/^(off|false|0|none)$/i.test(v)) return { kind: 'off' };
  if (DURATION.test(v)) return { kind: 'interval', value: v, ms: durationMs(v) };
  const fields = v.split(/\s+/).length;
  const cron = cronValidate(v, { preset: 'default', override: { useSeconds: fields === 6 } });
  if ((fields === 5 || fields === 6) && cron.isValid()) {
    return { kind: 'cron', value: v };
  }
  return null;
}

const schedule = z
  .string()
  .refine(
    (v) => parseSchedule(v) !== null,
    'use off, a duration such as 10m or 1h, or a cron expression',
  );

const duration = z
  .string()
  .regex(DURATION, 'a duration such as 30s, 15m or 24h')
  .transform((v) => durationMs(v));

const schema = z.object({
  NEO4J_URI: z
    .string()
    .regex(/^(neo4j|bolt)(\+s|\+ssc)?:\/\/.+/, 'must be a neo4j:// or bolt:// URI')
    .optional(),
  NEO4J_USER: z.string().min(1).default('neo4j'),
  NEO4J_PASSWORD: z.string().optional(),
  NEO4J_DATABASE: z.string().min(1).default('neo4j'),
  TTPGRAPH_DATA_DIR: z.string().min(1).optional(),
  TTPGRAPH_NEO4J_PORT: z.coerce.number().int().min(0).max(65535).default(7687),
  TTPGRAPH_NEO4J_HEAP: z
    .string()
    .regex(/^\d+[mMgG]$/, 'a JVM size such as 1g or 768m')
    .default('1g'),
  TTPGRAPH_NEO4J_PAGE_CACHE_MB: z.coerce.number().int().min(16).max(65536).default(256),
  TTPGRAPH_NEO4J_PASSWORD: z.string().min(8, 'Neo4j requires 8 characters or more').optional(),
  TTPGRAPH_NEO4J_START_TIMEOUT_MS: z.coerce.number().int().positive().default(180_000),
  // MITRE's own releases; air-gapped sites point this at files or a mirror.
  TTPGRAPH_IMPORT_URLS: z.string().default(''),
  // Hosts (or host:port) that POST imports/ may fetch from over plain http or on a private
  // address: a mirror inside the network. Everything else must be public https.
  TTPGRAPH_IMPORT_ALLOWED_HOSTS: z.string().default(''),
  TTPGRAPH_SYNC_SOURCE: z.enum(['json', 'taxii']).default('json'),
  TTPGRAPH_SYNC_INTERVAL: schedule.optional(),
  // The seed platform's name for it; TTPGRAPH_SYNC_INTERVAL wins when both are set.
  SYNC_INTERVAL: schedule.optional(),
  TTPGRAPH_SYNC_ON_START: z.stringbool().default(true),
  TTPGRAPH_SYNC_DOMAINS: z.string().default('enterprise-attack'),
  TTPGRAPH_SYNC_INDEX_URL: z.string().min(1).default(DEFAULT_INDEX_URL),
  TTPGRAPH_SYNC_LEASE_MS: z.coerce.number().int().min(1_000).default(120_000),
  // A poll that finds nothing new writes nothing; one such poll per heartbeat is recorded (status's
  // last attempt, the runs list). 0 records every poll.
  TTPGRAPH_SYNC_HEARTBEAT_MS: z.coerce.number().int().min(0).default(3_600_000),
  TTPGRAPH_SYNC_RETRY_BASE_MS: z.coerce.number().int().min(10).default(30_000),
  TTPGRAPH_SYNC_RETRY_MAX_MS: z.coerce.number().int().min(10).optional(),
  TTPGRAPH_TAXII_URL: z.url({ protocol: /^https?$/ }).default(DEFAULT_TAXII_URL),
  TTPGRAPH_TAXII_COLLECTIONS: z.string().optional(),
  TTPGRAPH_TAXII_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(1_000),
  TTPGRAPH_TAXII_MAX_REQUESTS: z.coerce.number().int().min(1).default(40),
  TTPGRAPH_IMPORT_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(2_000),
  TTPGRAPH_FETCH_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  TTPGRAPH_MAX_BUNDLE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(512 * 1024 * 1024),
  // Unset: the server logs at info; a CLI command says what went wrong in one human line instead.
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  // Bytes of serialised ATT&CK answers kept in memory; 0 turns the cache off.
  TTPGRAPH_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(64 * 1024 * 1024),
  TTPGRAPH_CACHE_POLL_MS: z.coerce.number().int().min(100).default(2_000),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  // One mapping (a procedure of 20,000 characters) fits; bulk/ has its own limit.
  TTPGRAPH_JSON_BODY_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  // A bulk of 10,000 mappings must fit.
  TTPGRAPH_BULK_BODY_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  // Per user: requests a second on average and the burst allowed; 0 turns the limit off.
  TTPGRAPH_RATE_LIMIT_RPS: z.coerce.number().min(0).default(50),
  TTPGRAPH_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(200),
  TTPGRAPH_UPLOAD_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(200 * 1024 * 1024),
  TTPGRAPH_TRUST_PROXY: z.string().optional(),
  // Where clients reach this service (https://soc.example): the base of next/previous links.
  TTPGRAPH_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  TTPGRAPH_SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  // Origins (https://soc.example) that may show the web console in a frame; unset: none.
  TTPGRAPH_CONSOLE_FRAME_ANCESTORS: z
    .string()
    .regex(
      /^(https?:\/\/[^\s,;'"]+)([\s,]+https?:\/\/[^\s,;'"]+)*$/,
      'origins such as https://soc.example, comma-separated',
    )
    .optional(),
  JWT_SECRET: z.string().min(32, 'use 32 characters or more').optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_CLAIM_TENANT: z.string().min(1).default('tenant'),
  JWT_CLAIM_TENANTS: z.string().min(1).default('tenants'),
  JWT_CLAIM_ROLES: z.string().min(1).default('roles'),
  JWT_CLAIM_SUPERUSER: z.string().min(1).default('is_superuser'),
  JWT_CLAIM_GROUPS: z.string().min(1).default('groups'),
  // A token whose exp lies further than this from its iat (or from now) is refused.
  JWT_MAX_LIFETIME: duration.default(86_400_000),
  JWT_CLOCK_TOLERANCE: duration.default(30_000),
  // Development only: a JWKS served over plain http on a loopback address.
  JWT_JWKS_ALLOW_HTTP_LOOPBACK: z.stringbool().default(false),
});

/** Every variable the configuration reads (.env.example and README list each one; a test checks). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

export interface Neo4jConfig {
  /** Set when an existing server or cluster is to be used; unset means the local launcher. */
  uri?: string;
  user: string;
  password?: string;
  database: string;
}

export interface LocalNeo4jConfig {
  home: string;
  port: number;
  heap: string;
  pageCacheMb: number;
  password?: string;
  startTimeoutMs: number;
}

export interface AuthConfig {
  /** HS256 secret (development); a JWKS URL is what production uses. */
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  claims: { tenant: string; tenants: string; roles: string; superuser: string; groups: string };
  maxLifetimeMs: number;
  clockToleranceMs: number;
}

export interface HttpConfig {
  host: string;
  port: number;
  jsonBodyLimit: number;
  bulkBodyLimit: number;
  uploadLimit: number;
  rateLimit: { rps: number; burst: number };
  trustProxy?: string;
  /** Without a trailing slash; unset: links are relative. */
  publicUrl?: string;
  shutdownGraceMs: number;
  /** Origins allowed to frame the web console (its CSP frame-ancestors); empty: none. */
  consoleFrameAncestors: string[];
}

export interface Config {
  http: HttpConfig;
  /** The in-process cache of ATT&CK answers, in bytes (0 turns it off). */
  cache: { bytes: number; pollMs: number };
  auth: AuthConfig;
  neo4j: Neo4jConfig;
  localNeo4j: LocalNeo4jConfig;
  dataDir: string;
  importUrls: string[];
  importAllowedHosts: string[];
  importBatchSize: number;
  sync: SyncConfig;
  fetchTimeoutMs: number;
  maxBundleBytes: number;
  /** LOG_LEVEL when set; each entry point has its own default. */
  logLevel?: string;
}

/** The three ATT&CK domains and their collection ids (the same in index.json and on TAXII). */
export const ATTACK_COLLECTIONS: Record<string, string> = {
  'enterprise-attack': 'x-mitre-collection--1f5f1533-f617-4ca8-9ab4-6a02367fa019',
  'mobile-attack': 'x-mitre-collection--dac0d2d7-8653-445c-9bff-82f934c1e858',
  'ics-attack': 'x-mitre-collection--90c00720-636b-4485-b342-8751d232bf09',
};

export interface SyncConfig {
  source: 'json' | 'taxii';
  schedule: SyncSchedule;
  onStart: boolean;
  domains: string[];
  indexUrl: string;
  leaseMs: number;
  heartbeatMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  taxii: {
    url: string;
    /** domain → collection id. */
    collections: Record<string, string>;
    pageSize: number;
    maxRequests: number;
  };
}

export class ConfigError extends Error {}

/** Reads and validates the environment once; every entry point calls this first. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable counts as unset, as compose's `${NAME:-}` passes an unset one through.
  const parsed = schema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')),
  );
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.JWT_JWKS_URL) checkJwks(e.JWT_JWKS_URL, e);
  const dataDir = path.resolve(e.TTPGRAPH_DATA_DIR ?? path.join(packageRoot(), '.data'));
  const localPassword = e.TTPGRAPH_NEO4J_PASSWORD;
  return {
    cache: { bytes: e.TTPGRAPH_CACHE_BYTES, pollMs: e.TTPGRAPH_CACHE_POLL_MS },
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      jsonBodyLimit: e.TTPGRAPH_JSON_BODY_LIMIT,
      bulkBodyLimit: e.TTPGRAPH_BULK_BODY_LIMIT,
      uploadLimit: e.TTPGRAPH_UPLOAD_LIMIT,
      rateLimit: { rps: e.TTPGRAPH_RATE_LIMIT_RPS, burst: e.TTPGRAPH_RATE_LIMIT_BURST },
      trustProxy: e.TTPGRAPH_TRUST_PROXY,
      publicUrl: e.TTPGRAPH_PUBLIC_URL?.replace(/\/+$/, ''),
      shutdownGraceMs: e.TTPGRAPH_SHUTDOWN_GRACE_MS,
      consoleFrameAncestors: (e.TTPGRAPH_CONSOLE_FRAME_ANCESTORS ?? '')
        .split(/[\s,]+/)
        .filter(Boolean),
    },
    auth: {
      secret: e.JWT_SECRET,
      jwksUrl: e.JWT_JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      claims: {
        tenant: e.JWT_CLAIM_TENANT,
        tenants: e.JWT_CLAIM_TENANTS,
        roles: e.JWT_CLAIM_ROLES,
        superuser: e.JWT_CLAIM_SUPERUSER,
        groups: e.JWT_CLAIM_GROUPS,
      },
      maxLifetimeMs: e.JWT_MAX_LIFETIME,
      clockToleranceMs: e.JWT_CLOCK_TOLERANCE,
    },
    neo4j: {
      uri: e.NEO4J_URI,
      user: e.NEO4J_USER,
      // Against the local launcher the password is the one it was started with.
      password: e.NEO4J_URI ? e.NEO4J_PASSWORD : localPassword,
      database: e.NEO4J_DATABASE,
    },
    localNeo4j: {
      home: path.join(dataDir, 'neo4j'),
      port: e.TTPGRAPH_NEO4J_PORT,
      heap: e.TTPGRAPH_NEO4J_HEAP,
      pageCacheMb: e.TTPGRAPH_NEO4J_PAGE_CACHE_MB,
      password: localPassword,
      startTimeoutMs: e.TTPGRAPH_NEO4J_START_TIMEOUT_MS,
    },
    dataDir,
    importUrls: e.TTPGRAPH_IMPORT_URLS.split(/[\s,]+/).filter((u) => u.length > 0),
    importAllowedHosts: e.TTPGRAPH_IMPORT_ALLOWED_HOSTS.split(/[\s,]+/).filter((h) => h.length > 0),
    importBatchSize: e.TTPGRAPH_IMPORT_BATCH_SIZE,
    sync: syncConfig(e),
    fetchTimeoutMs: e.TTPGRAPH_FETCH_TIMEOUT_MS,
    maxBundleBytes: e.TTPGRAPH_MAX_BUNDLE_BYTES,
    logLevel: e.LOG_LEVEL,
  };
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** A JWKS is trusted for every token it signs: only over TLS, and only for one issuer and audience. */
function checkJwks(url: string, e: z.infer<typeof schema>): void {
  const missing = ['JWT_ISSUER', 'JWT_AUDIENCE'].filter((k) => !e[k as 'JWT_ISSUER']);
  if (missing.length > 0) {
    throw new ConfigError(
      `JWT_JWKS_URL needs ${missing.join(' and ')}: without them a token issued for another service would be accepted`,
    );
  }
  const u = new URL(url);
  if (u.protocol === 'https:') return;
  if (!LOOPBACK.test(u.hostname) || !e.JWT_JWKS_ALLOW_HTTP_LOOPBACK) {
    throw new ConfigError(
      'JWT_JWKS_URL must be https (plain http is allowed only on a loopback address with JWT_JWKS_ALLOW_HTTP_LOOPBACK=true, for development)',
    );
  }
}

function syncConfig(e: z.infer<typeof schema>): SyncConfig {
  const schedule = parseSchedule(
    e.TTPGRAPH_SYNC_INTERVAL ?? e.SYNC_INTERVAL ?? '10m',
  ) as SyncSchedule;
  const domains = e.TTPGRAPH_SYNC_DOMAINS.split(/[\s,]+/).filter((d) => d.length > 0);
  // TTPGRAPH_TAXII_COLLECTIONS: "domain=collection-id,..." for servers other than MITRE's.
  const collections = { ...ATTACK_COLLECTIONS };
  for (const pair of (e.TTPGRAPH_TAXII_COLLECTIONS ?? '').split(/[\s,]+/).filter(Boolean)) {
    const [domain, id] = pair.split('=');
    if (!domain || !id)
      throw new ConfigError(`TTPGRAPH_TAXII_COLLECTIONS: "${pair}" is not domain=collection-id`);
    collections[domain] = id;
  }
  const unknown = domains.filter((d) => !collections[d]);
  if (e.TTPGRAPH_SYNC_SOURCE === 'taxii' && unknown.length > 0) {
    throw new ConfigError(
      `no TAXII collection for ${unknown.join(', ')}: set TTPGRAPH_TAXII_COLLECTIONS`,
    );
  }
  return {
    source: e.TTPGRAPH_SYNC_SOURCE,
    schedule,
    onStart: e.TTPGRAPH_SYNC_ON_START,
    domains,
    indexUrl: e.TTPGRAPH_SYNC_INDEX_URL,
    leaseMs: e.TTPGRAPH_SYNC_LEASE_MS,
    heartbeatMs: e.TTPGRAPH_SYNC_HEARTBEAT_MS,
    retryBaseMs: e.TTPGRAPH_SYNC_RETRY_BASE_MS,
    retryMaxMs:
      e.TTPGRAPH_SYNC_RETRY_MAX_MS ?? (schedule.kind === 'interval' ? schedule.ms : 600_000),
    taxii: {
      url: e.TTPGRAPH_TAXII_URL.endsWith('/') ? e.TTPGRAPH_TAXII_URL : `${e.TTPGRAPH_TAXII_URL}/`,
      collections,
      pageSize: e.TTPGRAPH_TAXII_PAGE_SIZE,
      maxRequests: e.TTPGRAPH_TAXII_MAX_REQUESTS,
    },
  };
}
