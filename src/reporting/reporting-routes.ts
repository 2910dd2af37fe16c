import { Router, type RequestHandler } from 'express';
import type { Authorizer } from '../auth/authorization';
import { authorize } from '../auth/middleware';
import { tenantOf } from '../mappings/mapping-routes';
import type { ReportingService } from './reporting-service';

/** Reports on a tenant's incidents: read with the same right as its mappings. */
export function reportingRouter(
  service: ReportingService,
  authorizer: Authorizer,
  loaded: RequestHandler,
): Router {
  const router = Router();
  router.get(
    '/incidents/:id/kill-chain/',
    authorize(authorizer, 'mappings', 'read'),
    loaded,
    async (req, res) => {
      res.json(await service.killChain(tenantOf(req), String(req.params.id)));
    },
  );
  router.get(
    '/incidents/:id/next-steps/',
    authorize(authorizer, 'mappings', 'read'),
    loaded,
    async (req, res) => {
      res.json(
        await service.incidentNextSteps(
          tenantOf(req),
          String(req.params.id),
          Number(req.query.top_k ?? DEFAULT_TOP_K),
        ),
      );
    },
  );
  // The tenant's past incidents are evidence: the same right as reading its mappings.
  router.post(
    '/next-steps/',
    authorize(authorizer, 'mappings', 'read'),
    loaded,
    async (req, res) => {
      const body = req.body as { techniques: string[]; top_k?: number };
      res.json(await service.suggest(tenantOf(req), body.techniques, body.top_k ?? DEFAULT_TOP_K));
    },
  );
  return router;
}

const DEFAULT_TOP_K = 20;
