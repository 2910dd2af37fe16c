import { Router, type Request, type RequestHandler } from 'express';
import type { Viewer } from '../auth/access';
import type { EntityAccess } from '../auth/authorization';
import type { Authorizer } from '../auth/authorization';
import { authorize, authorizeAny, grants } from '../auth/middleware';
import {
  flag,
  optionalFlag,
  optionalList,
  optionalString,
  pageRequest,
  pageLinks,
  toPage,
} from '../http/pagination';
import { BadRequestError } from '../shared/errors';
import {
  KINDS,
  type Actor,
  type Creator,
  type Reader,
  type Kind,
  type MappingInput,
  type MappingService,
} from './mapping-service';

/** Tenant data needs one tenant: a superuser names it with X-Tenant. */
export function tenantOf(req: Request): string {
  const tenant = req.auth?.tenant ?? '';
  if (tenant === '' || tenant === '*') {
    throw new BadRequestError(
      'this operation acts on one tenant: name it with the X-Tenant header',
    );
  }
  return tenant;
}

/** Who reads, in which tenant, with the groups and superuser pass that entity access looks at. */
export function reader(req: Request): Reader {
  return { tenant: tenantOf(req), ...viewer(req) };
}

/** The caller as entity access sees them. */
export function viewer(req: Request): Viewer {
  const identity = req.auth?.identity;
  return {
    userId: identity?.userId ?? '',
    groups: identity?.groups ?? [],
    superuser: identity?.superuser === true,
  };
}

/** Who creates mappings, in which tenant, and which entities they may change. */
export function creator(req: Request): Creator {
  const granted = req.auth?.granted;
  return {
    ...reader(req),
    entityScope: granted?.has('entities:update-any')
      ? 'any'
      : granted?.has('entities:update-own')
        ? 'own'
        : null,
  };
}

function actor(req: Request, action: 'update' | 'delete'): Actor {
  const any = req.auth?.granted.has(`mappings:${action}-any`) === true;
  return { ...reader(req), scope: any ? 'any' : 'own' };
}

/** alert-mappings/, incident-mappings/, observable-mappings/ and mapping-changes/. */
export function mappingRouter(
  service: MappingService,
  authorizer: Authorizer,
  loaded: RequestHandler,
): Router {
  const router = Router();
  const read = authorize(authorizer, 'mappings', 'read');
  // A mapping names a technique: before any release is in, that is "not loaded", not "unknown".
  const create = [
    authorize(authorizer, 'mappings', 'create'),
    loaded,
    grants(authorizer, 'entities', 'update-any'),
    grants(authorizer, 'entities', 'update-own'),
  ];
  const update = authorizeAny(authorizer, 'mappings', ['update-any', 'update-own']);
  const remove = authorizeAny(authorizer, 'mappings', ['delete-any', 'delete-own']);

  for (const kind of Object.keys(KINDS) as Kind[]) {
    const base = `/${kind}-mappings`;
    router.get(`${base}/`, read, async (req, res) => {
      const q = req.query as Record<string, unknown>;
      const page = pageRequest(q);
      const { count, results } = await service.list(
        reader(req),
        kind,
        {
          entityId: optionalString(q[KINDS[kind].idField]),
          technique: optionalString(q.technique),
          includeSubtechniques: flag(q.include_subtechniques),
          tactics: optionalList(q.tactic),
          sources: optionalList(q.source),
          minConfidence: q.min_confidence === undefined ? null : Number(q.min_confidence),
          createdAfter: optionalString(q.created_after),
          createdBefore: optionalString(q.created_before),
          occurredAfter: optionalString(q.occurred_after),
          occurredBefore: optionalString(q.occurred_before),
          stale: optionalFlag(q.stale),
        },
        page,
      );
      res.json(toPage(pageLinks(req), page, count, results));
    });

    router.post(`${base}/`, ...create, async (req, res) => {
      const [one] = await service.create(creator(req), kind, [req.body as MappingInput]);
      if (!one) throw new Error('create answered nothing for one item');
      const mapping = await service.get(reader(req), kind, one.id);
      if (one.created) res.status(201).location(`${req.baseUrl}${base}/${one.id}/`);
      res.json({ ...mapping, warnings: one.warnings });
    });

    router.post(`${base}/bulk/`, ...create, async (req, res) => {
      const items = (req.body as { items: MappingInput[] }).items;
      const out = await service.create(creator(req), kind, items);
      // Many were created: Location names the collection they are listed in.
      res
        .status(201)
        .location(`${req.baseUrl}${base}/`)
        .json({
          count: out.length,
          created: out.filter((o) => o.created).length,
          results: out,
        });
    });

    router.get(`${base}/:id/`, read, async (req, res) => {
      res.json(await service.get(reader(req), kind, String(req.params.id)));
    });

    router.get(`${base}/:id/events/`, read, async (req, res) => {
      // The trail outlives a deleted mapping; an id this tenant never had answers 404.
      res.json({ results: await service.events(reader(req), String(req.params.id)) });
    });

    router.patch(`${base}/:id/`, update, async (req, res) => {
      res.json(
        await service.update(
          actor(req, 'update'),
          kind,
          String(req.params.id),
          req.body as MappingInput,
        ),
      );
    });

    router.delete(`${base}/:id/`, remove, async (req, res) => {
      await service.remove(actor(req, 'delete'), kind, String(req.params.id));
      res.status(204).end();
    });
  }

  const manage = grants(authorizer, 'entity-access', 'manage');
  const managing = (req: Request) => ({
    ...creator(req),
    manage: req.auth?.granted.has('entity-access:manage') === true,
  });
  for (const kind of Object.keys(KINDS) as Kind[]) {
    router.get(`/${kind}s/:id/events/`, read, async (req, res) => {
      res.json({
        results: await service.entityEvents(reader(req), kind, String(req.params.id)),
      });
    });
    // Who may see and change the entity: set by the platform (its editors, tenant admins).
    router.get(`/${kind}s/:id/access/`, read, manage, async (req, res) => {
      res.json(await service.access(managing(req), kind, String(req.params.id)));
    });
    router.put(
      `/${kind}s/:id/access/`,
      authorizeAny(authorizer, 'entities', ['update-own', 'update-any']),
      manage,
      async (req, res) => {
        res.json(
          await service.setAccess(
            managing(req),
            kind,
            String(req.params.id),
            req.body as Partial<EntityAccess>,
          ),
        );
      },
    );
  }

  router.get('/mapping-changes/', read, async (req, res) => {
    const q = req.query as Record<string, unknown>;
    const page = pageRequest(q);
    const kind = optionalString(q.kind) as Kind | null;
    const { count, results } = await service.changes(reader(req), kind, page);
    res.json(toPage(pageLinks(req), page, count, results));
  });

  return router;
}
