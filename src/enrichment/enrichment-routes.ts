import { Router, type Request, type RequestHandler } from 'express';
import type { Authorizer } from '../auth/authorization';
import { authorize, grants } from '../auth/middleware';
import {
  KINDS,
  type Kind,
  type MappingInput,
  type MappingService,
} from '../mappings/mapping-service';
import { creator } from '../mappings/mapping-routes';
import type { EnrichItem } from './engine';
import type { EnrichmentService } from './enrichment-service';

interface EnrichBody {
  items: EnrichItem[];
  top_k?: number;
  min_confidence?: number;
}

type AutoItem = EnrichItem & Record<string, unknown>;

/** Where an entity's own fields go in an auto request: the rest is what the engine reads. */
const PARENTS: Record<Kind, string[]> = {
  alert: ['incident_id'],
  incident: [],
  observable: ['alert_id', 'incident_id'],
};

/** POST enrich/ (analyzers) and POST {alert,incident,observable}-mappings/auto/. */
export function enrichmentRouter(
  service: EnrichmentService,
  mappings: MappingService,
  authorizer: Authorizer,
  loaded: RequestHandler,
): Router {
  const router = Router();

  // Reads ATT&CK only (no tenant data): whoever reads ATT&CK may enrich.
  router.post('/enrich/', authorize(authorizer, 'attack', 'read'), loaded, async (req, res) => {
    const body = req.body as EnrichBody;
    const { engine, info } = await service.engine();
    const opts = { topK: body.top_k ?? 5, minConfidence: body.min_confidence ?? 0.2 };
    res.json({
      model: info,
      results: body.items.map((item, index) => ({
        index,
        ...(item.id === undefined ? {} : { id: item.id }),
        techniques: engine.enrich(item, opts),
      })),
    });
  });

  for (const kind of Object.keys(KINDS) as Kind[]) {
    const idField = KINDS[kind].idField;
    router.post(
      `/${kind}-mappings/auto/`,
      authorize(authorizer, 'mappings', 'create'),
      loaded,
      grants(authorizer, 'entities', 'update-any'),
      grants(authorizer, 'entities', 'update-own'),
      async (req: Request, res) => {
        const body = req.body as { items: AutoItem[]; top_k?: number; min_confidence?: number };
        const { engine } = await service.engine();
        const opts = { topK: body.top_k ?? 3, minConfidence: body.min_confidence ?? 0.5 };
        const inputs: MappingInput[] = [];
        const owner: number[] = [];
        body.items.forEach((item, index) => {
          for (const s of engine.enrich(item, opts)) {
            const input: MappingInput = {
              [idField]: item[idField],
              technique: s.technique,
              source: 'enrichment',
              confidence: Math.round(s.confidence * 100),
              evidence: s.evidence,
            };
            for (const p of PARENTS[kind]) if (item[p] !== undefined) input[p] = item[p];
            if (item.occurred_at !== undefined) input.occurred_at = item.occurred_at as string;
            inputs.push(input);
            owner.push(index);
          }
        });
        const written = inputs.length > 0 ? await mappings.create(creator(req), kind, inputs) : [];
        // Each stored mapping back to its item, in one pass.
        const byItem = body.items.map(() => [] as Array<Record<string, unknown>>);
        for (const w of written) {
          const input = inputs[w.index] as MappingInput;
          byItem[owner[w.index] as number]?.push({
            id: w.id,
            technique: input.technique,
            confidence: input.confidence,
            created: w.created,
          });
        }
        const results = body.items.map((item, index) => ({
          index,
          [idField]: item[idField],
          mappings: byItem[index],
        }));
        res.json({
          count: written.length,
          created: written.filter((w) => w.created).length,
          results,
        });
      },
    );
  }
  return router;
}
