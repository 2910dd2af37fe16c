import { Router } from 'express';
import type { Authorizer } from '../auth/authorization';
import { authorize, grants } from '../auth/middleware';
import { flag, optionalString } from '../http/pagination';
import type { Config } from '../shared/config';
import { BadRequestError } from '../shared/errors';
import type { SyncOptions, SyncService } from '../sync/sync-service';
import { fetchBundle, sha256Bytes, type FetchedBundle } from './bundle-source';
import type { ChangeReport } from './import-service';
import { UrlGuard } from '../shared/url-guard';
import { toWire } from '../shared/wire';
import { publicStatus, type StatusService } from './status-service';

export const UPLOAD_TYPES = [
  'application/gzip',
  'application/octet-stream',
  'application/stix+json',
];

/** Status for everyone, imports for superusers. */
export function operationsRouter(
  deps: { sync: SyncService; status: StatusService; config: Config; onImported?: () => void },
  authorizer: Authorizer,
): Router {
  const router = Router();
  const guard = new UrlGuard(deps.config.importAllowedHosts);

  router.get(
    '/status/',
    authorize(authorizer, 'status', 'read'),
    grants(authorizer, 'status-details', 'read'),
    async (req, res) => {
      const details = req.auth?.granted.has('status-details:read') === true;
      const status = await deps.status.status(details);
      res.json(toWire(details ? status : publicStatus(status)));
    },
  );

  router.post('/imports/', authorize(authorizer, 'imports', 'create'), async (req, res) => {
    const q = req.query as Record<string, unknown>;
    // Through the sync pipeline: under the same lease as scheduled syncs, recorded as a run.
    const apply = async (bundle: FetchedBundle, opts: Omit<SyncOptions, 'trigger' | 'bundle'>) => {
      const run = await deps.sync.runOrThrow({ trigger: 'api', bundle, ...opts });
      return run.reports[0] as ChangeReport;
    };
    let report: ChangeReport;
    if (Buffer.isBuffer(req.body)) {
      if (req.body.length === 0) throw new BadRequestError('the uploaded bundle is empty');
      report = await apply(
        { bytes: req.body, source: 'upload', sha256: sha256Bytes(req.body) },
        {
          domain: optionalString(q.domain) ?? undefined,
          force: flag(q.force),
          relationships: flag(q.relationships, true),
          strict: flag(q.strict),
        },
      );
    } else {
      const body = req.body as {
        url: string;
        domain?: string;
        force?: boolean;
        relationships?: boolean;
        strict?: boolean;
      };
      // Checked before anything is fetched: never a file, never this host or its network.
      guard.check(body.url);
      const fetched = await fetchBundle(body.url, {
        timeoutMs: deps.config.fetchTimeoutMs,
        maxBytes: deps.config.maxBundleBytes,
        guard,
      });
      report = await apply(fetched, {
        domain: body.domain,
        force: body.force === true,
        relationships: body.relationships !== false,
        strict: body.strict === true,
      });
    }
    if (report.changed) deps.onImported?.();
    res.json(toWire(report));
  });

  return router;
}
