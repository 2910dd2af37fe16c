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
  return router;
}
