import { Router, type Request, type RequestHandler } from 'express';
import type { Authorizer } from '../auth/authorization';
import { authorize } from '../auth/middleware';
import { reader, tenantOf, viewer } from '../mappings/mapping-routes';
import type { BreakdownBy, DashboardService, EntityKind } from './dashboard-service';
import { renderHtml, renderMarkdown } from './report';
import type { ReportingService } from './reporting-service';

const DEFAULT_TOP_K = 20;
const DEFAULT_PATHS = 5;

// The HTML report is a page of its own: one inline stylesheet, nothing else loaded or run.
const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The dashboard's tenant: the request's, or every tenant for a superuser acting in none. */
function dashboardTenant(req: Request): string | null {
  return req.auth?.tenant === '*' ? null : tenantOf(req);
}

/** Reports on a tenant's incidents and dashboards: read with the same right as its mappings. */
export function reportingRouter(
  service: ReportingService,
  dashboard: DashboardService,
  authorizer: Authorizer,
  loaded: RequestHandler,
): Router {
  const router = Router();
  const read = authorize(authorizer, 'mappings', 'read');
  const id = (req: Request) => String(req.params.id);

  router.get('/incidents/:id/kill-chain/', read, loaded, async (req, res) => {
    res.json(await service.killChain(reader(req), id(req)));
  });
  router.get('/incidents/:id/next-steps/', read, loaded, async (req, res) => {
    const topK = Number(req.query.top_k ?? DEFAULT_TOP_K);
    res.json(await service.incidentNextSteps(reader(req), id(req), topK));
  });
  // The tenant's past incidents are evidence: the same right as reading its mappings.
  router.post('/next-steps/', read, loaded, async (req, res) => {
    const body = req.body as { techniques: string[]; top_k?: number };
    res.json(await service.suggest(reader(req), body.techniques, body.top_k ?? DEFAULT_TOP_K));
  });
  router.get('/incidents/:id/paths/', read, loaded, async (req, res) => {
    const limit = Number(req.query.limit ?? DEFAULT_PATHS);
    res.json(await service.paths(reader(req), id(req), String(req.query.to), limit));
  });
  router.get('/incidents/:id/report/', read, loaded, async (req, res) => {
    const report = await service.report(reader(req), id(req), new Date().toISOString());
    const format = String(req.query.format ?? 'json');
    if (format === 'markdown')
      res.type('text/markdown; charset=utf-8').send(renderMarkdown(report));
    else if (format === 'html')
      res.setHeader('Content-Security-Policy', REPORT_CSP).type('html').send(renderHtml(report));
    else res.json(report);
  });
  router.get('/incidents/:id/layer/', read, loaded, async (req, res) => {
    const group = req.query.group === undefined ? undefined : String(req.query.group);
    res.json(await service.incidentLayer(reader(req), id(req), group));
  });
  router.get('/alerts/:id/layer/', read, loaded, async (req, res) => {
    res.json(await service.alertLayer(reader(req), id(req)));
  });

  const window = (req: Request) => ({
    tenant: dashboardTenant(req),
    entity: String(req.query.entity ?? 'incident') as EntityKind,
    from: req.query.from === undefined ? null : String(req.query.from),
    to: req.query.to === undefined ? null : String(req.query.to),
  });
  router.get('/dashboard/breakdown/', read, loaded, async (req, res) => {
    res.json(
      await dashboard.breakdown(viewer(req), {
        ...window(req),
        by: String(req.query.by ?? 'technique') as BreakdownBy,
        bucket:
          req.query.bucket === undefined ? null : (String(req.query.bucket) as 'day' | 'week'),
        top: Number(req.query.top ?? 10),
      }),
    );
  });
  router.get('/dashboard/layer/', read, loaded, async (req, res) => {
    res.json(await dashboard.layer(viewer(req), window(req)));
  });
  return router;
}
