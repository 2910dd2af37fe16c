import type { RequestListener } from 'node:http';
import { SignJWT } from 'jose';
import { ImportService } from '../../src/attack/import-service';
import { AnswerCache } from '../../src/attack/answer-cache';
import { MappingService } from '../../src/mappings/mapping-service';
import { StatusService } from '../../src/attack/status-service';
import { createAuthorizer } from '../../src/auth/authorization';
import { createTokenVerifier } from '../../src/auth/identity';
import { createApp } from '../../src/http/app';
import { Metrics } from '../../src/http/metrics';
import { composeServices } from '../../src/http/services';
import type { Clock } from '../../src/shared/clock';
import { loadConfig, type Config } from '../../src/shared/config';
import { openGraph } from '../../src/shared/neo4j';
import { asFetched, fixtureBundle, freshGraph, silentLogger } from './graph';
import type { Graph } from '../../src/shared/neo4j';
import type { SyncScheduler } from '../../src/sync/scheduler';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-42';

export interface TestApi {
  app: RequestListener;
  config: Config;
  importer: ImportService;
  cache: AnswerCache;
  mappings: MappingService;
  /** Present when the env turns syncing on (TTPGRAPH_SYNC_INTERVAL). */
  scheduler?: SyncScheduler;
  /** Closes the app's own driver (the one its metrics observe). */
  close(): Promise<void>;
}

/**
 * The real app on the test Neo4j, every response validated against openapi.yaml. The sync
 * scheduler (Bree) runs only when the env gives TTPGRAPH_SYNC_INTERVAL.
 */
export async function testApp(env: Record<string, string> = {}, clock?: Clock): Promise<TestApi> {
  const config = loadConfig({
    ...process.env,
    JWT_SECRET: TEST_SECRET,
    TTPGRAPH_SYNC_INTERVAL: 'off',
    // Suites send bursts from one user; the limiter has its own test.
    TTPGRAPH_RATE_LIMIT_RPS: '0',
    // Quiet tests: the Bree worker logs at the configured level.
    LOG_LEVEL: 'silent',
    ...env,
  });
  const late: { status?: StatusService } = {};
  const metrics = new Metrics(() => (late.status as StatusService).status());
  const graph = await openGraph({ ...config.neo4j, uri: config.neo4j.uri as string }, (...a) =>
    metrics.observeQuery(...a),
  );
  const authorizer = await createAuthorizer();
  const services = await composeServices(graph, config, silentLogger, authorizer, clock);
  late.status = services.status;
  const app = createApp({
    config,
    log: silentLogger,
    graph,
    verifier: createTokenVerifier(config.auth, { tokenRoles: authorizer.tokenRoles }),
    authorizer,
    metrics,
    ...services,
    validateResponses: true,
  });
  return {
    app,
    config,
    importer: services.importer,
    cache: services.cache,
    mappings: services.mappings,
    scheduler: services.scheduler,
    close: async () => {
      await services.stop(5_000);
      await graph.close();
    },
  };
}

export interface TokenClaims {
  sub?: string;
  tenant?: string;
  tenants?: string[];
  roles?: string[];
  superuser?: boolean;
  groups?: string[];
  expiresIn?: number;
  secret?: string;
}

export async function token(c: TokenClaims = {}): Promise<string> {
  const payload: Record<string, unknown> = { roles: c.roles ?? [] };
  if (c.tenant) payload.tenant = c.tenant;
  if (c.tenants) payload.tenants = c.tenants;
  if (c.superuser) payload.is_superuser = true;
  if (c.groups) payload.groups = c.groups;
  let jwt = new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (c.sub !== '') jwt = jwt.setSubject(c.sub ?? 'alice');
  jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (c.expiresIn ?? 3600));
  return jwt.sign(new TextEncoder().encode(c.secret ?? TEST_SECRET));
}

export const analyst = () => token({ sub: 'alice', tenant: 'acme', roles: ['analyst'] });
export const viewer = () => token({ sub: 'victor', tenant: 'acme', roles: ['viewer'] });
export const superuser = () => token({ sub: 'root', superuser: true });

/** The usual start of an API suite: an emptied graph holding the fixture, and the app on it. */
/**
 * A suite's app on the emptied test graph (holding the fixture when asked), opened before its
 * tests and closed after them: `const suite = appSuite();` then `suite.api`, `suite.graph`.
 */
export function appSuite(opts: { fixture?: boolean; env?: Record<string, string> } = {}): {
  graph: Graph;
  api: TestApi;
} {
  const suite = {} as { graph: Graph; api: TestApi };
  beforeAll(async () => {
    if (opts.fixture) Object.assign(suite, await fixtureApp(opts.env));
    else {
      suite.graph = await freshGraph();
      suite.api = await testApp(opts.env);
    }
  });
  afterAll(async () => {
    await suite.api?.close();
    await suite.graph?.close();
  });
  return suite;
}

export async function fixtureApp(
  env: Record<string, string> = {},
): Promise<{ graph: Graph; api: TestApi }> {
  const graph = await freshGraph();
  await new ImportService(graph, silentLogger).importBytes(asFetched(fixtureBundle(), 'fixture'));
  return { graph, api: await testApp(env) };
}
