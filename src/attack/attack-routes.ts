import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Authorizer } from '../auth/authorization';
import { authorize } from '../auth/middleware';
import {
  flag,
  optionalFlag,
  optionalList,
  optionalString,
  pageLinks,
  pageRequest,
  toPage,
} from '../http/pagination';
import { BadRequestError } from '../shared/errors';
import type { AnswerCache } from './answer-cache';
import { RESOURCES, type AttackService, type ResourceName } from './attack-service';
import { sendStored } from './stored-answers';

/**
 * A sparse answer (`fields=id,name,kill_chain`), as DRF clients ask for one: a technique page with
 * every group and software and their procedure text is ~100 KB, its name and tactics a few hundred
 * bytes. A name the object does not have is a 400 that lists those it has.
 */
function onlyFields(o: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const unknown = fields.filter((f) => !(f in o));
  if (unknown.length > 0) {
    throw new BadRequestError(
      `no field ${unknown.join(', ')} here; fields are ${Object.keys(o).join(', ')}`,
    );
  }
  return Object.fromEntries(fields.map((f) => [f, o[f]]));
}

/** The permission every ATT&CK read needs, routed or served from stored bytes. */
export const readAttack = (authorizer: Authorizer) => authorize(authorizer, 'attack', 'read');

// Related objects listed on a technique page (their counts are always complete).
const RELATED_LIMIT = 100;

/**
 * Read-only ATT&CK resources: thin handlers over AttackService. An answer depends on the URL and
 * the data version alone (links are relative or on the public URL), so it is stored by URL; the
 * computations capture no request, so the cache can run them again after a release.
 */
export function attackRouter(
  service: AttackService,
  cache: AnswerCache,
  authorizer: Authorizer,
  loaded: RequestHandler,
): Router {
  const router = Router();
  const read = [readAttack(authorizer), loaded];
  const answer = async (req: Request, res: Response, compute: () => Promise<unknown>) => {
    const route = (req as Request & { openapi?: { openApiRoute?: string } }).openapi?.openApiRoute;
    await sendStored(req, res, await cache.answer(req.originalUrl, route ?? req.path, compute));
  };

  for (const resource of Object.keys(RESOURCES) as ResourceName[]) {
    router.get(`/${resource}/`, ...read, async (req, res) => {
      const q = req.query as Record<string, unknown>;
      const page = pageRequest(q);
      const links = pageLinks(req);
      const filters = {
        domains: optionalList(q.domain),
        platforms: optionalList(q.platform),
        tactics: optionalList(q.tactic),
        isSubtechnique: optionalFlag(q.is_subtechnique),
        parent: optionalString(q.parent),
        softwareTypes: optionalList(q.software_type),
        includeRevoked: flag(q.include_revoked),
        includeDeprecated: flag(q.include_deprecated),
        modifiedAfter: optionalString(q.modified_after),
        search: optionalString(q.search),
      };
      await answer(req, res, async () => {
        const { count, results } = await service.list(resource, filters, page);
        return toPage(links, page, count, results);
      });
    });

    router.get(`/${resource}/:id/`, ...read, async (req, res) => {
      const q = req.query as Record<string, unknown>;
      const fields = optionalList(q.fields);
      const id = String(req.params.id);
      const options = {
        followRevoked: flag(q.follow_revoked),
        stix: q.format === 'stix',
        relatedLimit: RELATED_LIMIT,
      };
      await answer(req, res, async () => {
        const detail = await service.detail(resource, id, options);
        return fields ? onlyFields(detail as Record<string, unknown>, fields) : detail;
      });
    });
  }

  router.get('/relationships/', ...read, async (req, res) => {
    const q = req.query as Record<string, unknown>;
    const page = pageRequest(q);
    const links = pageLinks(req);
    const filters = {
      types: optionalList(q.relationship_type),
      source: optionalString(q.source),
      target: optionalString(q.target),
      includeRevoked: flag(q.include_revoked),
      includeDeprecated: flag(q.include_deprecated),
    };
    const stix = q.format === 'stix';
    await answer(req, res, async () => {
      const { count, results } = await service.relationships(filters, page, stix);
      return toPage(links, page, count, results);
    });
  });

  router.get('/relationships/:id/', ...read, async (req, res) => {
    const id = String(req.params.id);
    const stix = (req.query as Record<string, unknown>).format === 'stix';
    await answer(req, res, () => service.relationship(id, stix));
  });

  return router;
}
