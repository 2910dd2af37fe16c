import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import path from 'node:path';
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import swaggerUi from 'swagger-ui-express';
import { CONSOLE_PATH, consoleRouter } from './console';
import { frontDoor, frontDoorErrors, once } from './front-door';
import { parse as parseYaml } from 'yaml';
import { attackRouter, readAttack } from '../attack/attack-routes';
import { AttackService } from '../attack/attack-service';
import { requireLoaded } from '../attack/loaded';
import { operationsRouter, UPLOAD_TYPES } from '../attack/operations-routes';
import type { AnswerCache } from '../attack/answer-cache';
import { storedAnswerLane } from '../attack/stored-answers';
import { enrichmentRouter } from '../enrichment/enrichment-routes';
import type { EnrichmentService } from '../enrichment/enrichment-service';
import { reportingRouter } from '../reporting/reporting-routes';
import type { ReportingService } from '../reporting/reporting-service';
import type { DashboardService } from '../reporting/dashboard-service';
import { mappingRouter } from '../mappings/mapping-routes';
import type { MappingService } from '../mappings/mapping-service';
import type { StatusService } from '../attack/status-service';
import type { ReleaseService } from '../sync/release-service';
import type { SyncScheduler } from '../sync/scheduler';
import { syncRouter } from '../sync/sync-routes';
import type { SyncRunStore } from '../sync/run-store';
import type { SyncService } from '../sync/sync-service';
import type { Authorizer } from '../auth/authorization';
import type { TokenVerifier } from '../auth/identity';
import { authenticate, authorize, callerHandler } from '../auth/middleware';
import type { Config } from '../shared/config';
import { loadQueries } from '../shared/cypher';
import { NotFoundError, NotLoadedError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Graph } from '../shared/neo4j';
import { packageRoot } from '../shared/paths';
import type { Metrics } from './metrics';
import { FORMATS } from './formats';
import { PUBLIC_URL_SETTING } from './pagination';
import { headAndOptions } from './methods';
import { booleanQuery } from './query';
import { problemHandler } from './problem';
import { rateLimit } from './rate-limit';
import { securityHeaders } from './security-headers';
import { requestContext } from './request-context';
import { compileRoutePatternsOnce } from './route-patterns';

export const API_BASE = '/api/v1/mitre';

export interface AppDeps {
  config: Config;
  log: Logger;
  graph: Graph;
  verifier: TokenVerifier;
  authorizer: Authorizer;
  metrics: Metrics;
  sync: SyncService;
  status: StatusService;
  cache: AnswerCache;
  mappings: MappingService;
  enrichment: EnrichmentService;
  reporting: ReportingService;
  dashboard: DashboardService;
  runs: SyncRunStore;
  releases: ReleaseService;
  /** Absent where this instance schedules no sync (POST sync/ then answers 501). */
  scheduler?: SyncScheduler;
  /** Tests validate every response against openapi.yaml; production leaves it off for speed. */
  validateResponses?: boolean;
}

const DOCS = `${API_BASE}/docs`;

/** Public paths of the API: the contract and its browser. */
const PUBLIC = new Set([`${API_BASE}/openapi.yaml`]);

/** The seed platform's paths end with a slash; the same path without it is taken as the same. */
function trailingSlash(req: Request, _res: Response, next: NextFunction) {
  if (req.path.startsWith(API_BASE) && !req.path.endsWith('/') && !PUBLIC.has(req.path)) {
    const slashed = (url: string) => {
      const q = url.indexOf('?');
      return q === -1 ? `${url}/` : `${url.slice(0, q)}/${url.slice(q)}`;
    };
    // The validator matches on originalUrl, the routers on url: both get the slash.
    req.url = slashed(req.url);
    req.originalUrl = slashed(req.originalUrl);
  }
  next();
}

/** Runs a body parser only for the methods that carry a body. */
function withBody(parser: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT')
      parser(req, res, next);
    else next();
  };
}

/** Builds the app: Express behind its front door, as one request listener (listening is the caller's). */
export function createApp(deps: AppDeps): RequestListener {
  const specFile = path.join(packageRoot(), 'openapi.yaml');
  const specText = readFileSync(specFile, 'utf8');
  const { 'attack/api-ready': readyQuery } = loadQueries(['attack/api-ready']);
  const app = express();
  app.disable('x-powered-by');
  // Express would hash every body for a weak ETag: reference answers carry their own strong one,
  // tenant answers are not stored anywhere (no-store), so the hash would buy nothing.
  app.set('etag', false);
  if (deps.config.http.trustProxy) app.set('trust proxy', deps.config.http.trustProxy);
  if (deps.config.http.publicUrl) app.set(PUBLIC_URL_SETTING, deps.config.http.publicUrl);

  // What every answer gets, at the front door or in Express (once either way). Headers first, so
  // that OPTIONS answers carry them too.
  const everyRequest = [
    requestContext(deps.log),
    deps.metrics.middleware(),
    securityHeaders({
      docsPath: DOCS,
      consolePath: CONSOLE_PATH,
      https: deps.config.http.publicUrl?.startsWith('https:') === true,
      consoleFrameAncestors: deps.config.http.consoleFrameAncestors,
    }),
  ].map(once);
  app.use(...everyRequest, frontDoorErrors);
  const spec = parseYaml(specText) as Parameters<typeof booleanQuery>[0];
  // Token and rate checks are shared by the stored answers' lane and every other API route.
  const authenticated = authenticate(deps.verifier);
  const limited = rateLimit(deps.config.http.rateLimit.rps, deps.config.http.rateLimit.burst);
  // Reference answers this release already made go out as stored bytes, before Express's router.
  const stored = storedAnswerLane(deps.cache, authenticated, limited, readAttack(deps.authorizer));
  app.use(headAndOptions(spec.paths));

  // The contract and its browser need no token. Swagger UI's assets are files under docs/, so
  // docs/ is mounted before the trailing-slash rule (which would turn them into routes).
  app.get(`${API_BASE}/openapi.yaml`, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('application/yaml').send(specText);
  });
  app.use((req, res, next) => {
    if (req.path === DOCS) res.redirect(301, `${DOCS}/${req.originalUrl.slice(DOCS.length)}`);
    else next();
  });
  app.use(
    `${DOCS}/`,
    swaggerUi.serve,
    swaggerUi.setup(spec, {
      customSiteTitle: 'ttpgraph API',
      swaggerOptions: { persistAuthorization: false },
    }),
  );
  app.use(CONSOLE_PATH, consoleRouter());
  app.use(trailingSlash);
  app.use(booleanQuery(spec));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [row] = await deps.graph.read<{ domains: number }>(readyQuery);
    if ((row?.domains ?? 0) === 0) throw new NotLoadedError('no ATT&CK release is loaded yet');
    res.json({ status: 'ok', checks: { neo4j: 'ok', attack: 'loaded' } });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  // Every other API route needs a token, checked before any body is read; bodies are read only
  // for the methods that carry one, small except for bulk/ (and uploads, read by imports/ itself).
  app.use(API_BASE, authenticated);
  app.use(API_BASE, limited);
  const json = (limit: number) => express.json({ limit, type: 'application/json' });
  app.post(`${API_BASE}/:collection/bulk/`, json(deps.config.http.bulkBodyLimit));
  app.use(API_BASE, withBody(json(deps.config.http.jsonBodyLimit)));
  // An uploaded bundle may be large: it is read only once the caller may import.
  app.post(
    `${API_BASE}/imports/`,
    authorize(deps.authorizer, 'imports', 'create'),
    express.raw({ type: UPLOAD_TYPES, limit: deps.config.http.uploadLimit }),
  );
  compileRoutePatternsOnce();
  app.use(
    OpenApiValidator.middleware({
      apiSpec: specFile,
      // Bodies are taken as sent (no coercion): the validator still coerces query strings.
      validateRequests: { allowUnknownQueryParameters: false, coerceTypes: false },
      validateResponses: deps.validateResponses === true,
      validateSecurity: false,
      // Uploaded bundles are read by the route itself, up to the upload limit.
      fileUploader: false,
      validateApiSpec: true,
      formats: FORMATS,
      ignoreUndocumented: false,
    }),
  );

  app.get(`${API_BASE}/me/`, callerHandler(deps.authorizer));
  const loaded = requireLoaded(deps.graph);
  app.use(
    API_BASE,
    attackRouter(new AttackService(deps.graph), deps.cache, deps.authorizer, loaded),
  );
  const onImported = () => {
    deps.cache.invalidate();
    deps.enrichment.invalidate();
  };
  app.use(
    API_BASE,
    operationsRouter(
      { sync: deps.sync, status: deps.status, config: deps.config, onImported },
      deps.authorizer,
    ),
  );

  app.use(API_BASE, enrichmentRouter(deps.enrichment, deps.mappings, deps.authorizer, loaded));
  app.use(API_BASE, mappingRouter(deps.mappings, deps.authorizer, loaded));
  app.use(API_BASE, reportingRouter(deps.reporting, deps.dashboard, deps.authorizer, loaded));
  app.use(
    API_BASE,
    syncRouter(
      { releases: deps.releases, runs: deps.runs, scheduler: deps.scheduler },
      deps.authorizer,
    ),
  );

  app.use((req: Request) => {
    throw new NotFoundError(`no route for ${req.method} ${req.path}`);
  });
  app.use(problemHandler(deps.log));
  return frontDoor(app, stored.takes, [...everyRequest, ...stored.steps]);
}
