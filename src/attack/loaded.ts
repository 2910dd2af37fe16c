import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { loadQueries } from '../shared/cypher';
import { NotLoadedError } from '../shared/errors';
import type { Graph } from '../shared/neo4j';

/**
 * Before the first release is applied, an ATT&CK answer would be a misleading 404 or an empty
 * list: such requests are 503 "no ATT&CK release loaded yet", with what to do. Once a release is
 * in, it stays (domains are never removed), so the graph is asked only until then.
 */
export function requireLoaded(graph: Graph): RequestHandler {
  const { 'attack/api-ready': ready } = loadQueries(['attack/api-ready']);
  let loaded = false;
  return async (_req: Request, _res: Response, next: NextFunction) => {
    if (!loaded) {
      const [row] = await graph.read<{ domains: number }>(ready);
      loaded = (row?.domains ?? 0) > 0;
      if (!loaded) {
        throw new NotLoadedError(
          'no ATT&CK release loaded yet: the first sync is still running or could not reach its ' +
            'source (see GET status/). Offline, point TTPGRAPH_IMPORT_URLS at bundle files or a ' +
            'directory, or run `ttpgraph import-mitre --url FILE`.',
        );
      }
    }
    next();
  };
}
