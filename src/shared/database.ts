import type { Config } from './config';
import { DatabaseUnavailableError } from './errors';
import { daemonStatus, startLocalNeo4j, type LocalNeo4j } from './local-neo4j';
import type { Logger } from './logger';
import { openGraph, type Graph, type QueryObserver } from './neo4j';

export interface Connection {
  graph: Graph;
  /** Closes the driver and stops a Neo4j that this connection started itself. */
  close(): Promise<void>;
}

/**
 * The connection choice every entry point makes: NEO4J_URI when set (any server or cluster),
 * else the local Neo4j on this data directory when one runs (`ttpgraph db start`, or the one a
 * `ttpgraph serve` started), else one started for the lifetime of this process (unless the caller
 * only reports what is: then the answer is that nothing runs).
 */
export async function connect(
  cfg: Config,
  log: Logger,
  observe?: QueryObserver,
  opts: { startLocal: boolean } = { startLocal: true },
): Promise<Connection> {
  let local: LocalNeo4j | undefined;
  let uri = cfg.neo4j.uri;
  if (!uri) {
    const daemon = daemonStatus(cfg.localNeo4j);
    if (daemon.running && daemon.uri) {
      uri = daemon.uri;
      log.debug({ uri, pid: daemon.pid }, 'using the running local Neo4j');
    } else if (!opts.startLocal) {
      throw new DatabaseUnavailableError(
        `the local Neo4j is not running (data ${cfg.localNeo4j.home}): start it with \`ttpgraph db start\` or \`npm start\`, or set NEO4J_URI`,
      );
    } else {
      log.info({ home: cfg.localNeo4j.home }, 'starting the local Neo4j');
      local = await startLocalNeo4j(cfg.localNeo4j);
      uri = local.uri;
      log.info({ uri, pid: local.pid }, 'local Neo4j ready');
    }
  }
  try {
    const graph = await openGraph({ ...cfg.neo4j, uri }, observe);
    return {
      graph,
      close: async () => {
        await graph.close();
        await local?.stop();
      },
    };
  } catch (err) {
    await local?.stop();
    throw err;
  }
}
