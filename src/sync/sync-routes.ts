import { Router } from 'express';
import type { Authorizer } from '../auth/authorization';
import { authorize } from '../auth/middleware';
import {
  flag,
  optionalList,
  optionalString,
  pageRequest,
  pageLinks,
  toPage,
} from '../http/pagination';
import { NotFoundError, NotSupportedError } from '../shared/errors';
import { toWire } from '../shared/wire';
import type { ReleaseService } from './release-service';
import type { SyncScheduler } from './scheduler';
import type { SyncRunStore } from './run-store';

/** A run or state as JSON: absent parts are left out rather than null (see openapi.yaml). */
function present<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== null && v !== undefined),
  ) as Partial<T>;
}

/** Releases and their changelogs for every role; sync runs for superusers. */
export function syncRouter(
  deps: { releases: ReleaseService; runs: SyncRunStore; scheduler?: SyncScheduler },
  authorizer: Authorizer,
): Router {
  const router = Router();
  const readAttack = authorize(authorizer, 'attack', 'read');

  router.get('/releases/', readAttack, async (req, res) => {
    const page = pageRequest(req.query as Record<string, unknown>);
    const { count, results } = await deps.releases.list({
      domains: optionalList(req.query.domain),
      ...page,
    });
    res.json(toWire(toPage(pageLinks(req), page, count, results)));
  });

  router.get('/releases/:id/', readAttack, async (req, res) => {
    res.json(toWire(await deps.releases.get(String(req.params.id))));
  });

  router.get('/releases/:id/changes/', readAttack, async (req, res) => {
    const page = pageRequest(req.query as Record<string, unknown>);
    const { count, results } = await deps.releases.changes(String(req.params.id), {
      category: optionalString(req.query.category),
      type: optionalString(req.query.type),
      ...page,
    });
    res.json(toWire(toPage(pageLinks(req), page, count, results)));
  });

  router.post('/sync/', authorize(authorizer, 'sync', 'create'), async (req, res) => {
    if (!deps.scheduler) {
      throw new NotSupportedError(
        'this instance runs no sync scheduler (TTPGRAPH_SYNC_INTERVAL=off)',
      );
    }
    const body = (req.body ?? {}) as { force?: boolean; source?: 'json' | 'taxii' };
    const { run, started } = await deps.scheduler.trigger({
      trigger: 'api',
      force: flag(body.force),
      source: body.source,
    });
    res
      .status(202)
      .location(`${req.baseUrl}/sync/${run.id}/`)
      .json(toWire({ ...present(run), already_running: !started }));
  });

  router.get('/sync/', authorize(authorizer, 'sync', 'read'), async (req, res) => {
    const page = pageRequest(req.query as Record<string, unknown>);
    const { count, runs } = await deps.runs.runs(page);
    const state = deps.scheduler?.state();
    res.json(
      toWire({
        ...toPage(pageLinks(req), page, count, runs),
        ...(state
          ? {
              scheduler: present({
                ...state,
                running: state.running && present(state.running),
                last_run: state.last_run && present(state.last_run),
              }),
            }
          : {}),
      }),
    );
  });

  router.get('/sync/:id/', authorize(authorizer, 'sync', 'read'), async (req, res) => {
    const id = String(req.params.id);
    const live = deps.scheduler?.get(id);
    if (live && !live.result) {
      res.json(toWire(present(live)));
      return;
    }
    const { runs } = await deps.runs.runs({ limit: 1, offset: 0 }, id);
    const stored = runs[0];
    if (stored) {
      res.json(
        toWire({
          id,
          trigger: stored.trigger,
          state: stored.state,
          started_at: stored.started_at,
          result: stored,
        }),
      );
      return;
    }
    if (live) {
      res.json(toWire(present(live)));
      return;
    }
    throw new NotFoundError(`no sync run ${id}`);
  });

  return router;
}
