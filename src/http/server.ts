import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ImportService } from '../attack/import-service';
import { ReleaseCache } from '../attack/release-cache';
import { MappingService } from '../mappings/mapping-service';
import { applySchema } from '../attack/schema';
import { StatusService } from '../attack/status-service';
import { createAuthorizer } from '../auth/authorization';
import { createTokenVerifier, withDevelopmentSecret } from '../auth/identity';
import type { Config } from '../shared/config';
import { connect, type Connection } from '../shared/database';
import type { Logger } from '../shared/logger';
import { createApp } from './app';
import { ReleaseService } from '../sync/release-service';
import { SyncScheduler } from '../sync/scheduler';
import { SyncRunStore } from '../sync/run-store';
import { SyncService } from '../sync/sync-service';
import { Metrics } from './metrics';

export interface RunningServer {
  url: string;
  address: AddressInfo;
  connection: Connection;
  scheduler: SyncScheduler | undefined;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes Neo4j. */
  close(): Promise<void>;
}

/** Composes the service (Neo4j, schema, auth, app) and listens. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const dev = withDevelopmentSecret(config.auth, config.dataDir);
  if (dev.generated) {
    log.warn(
      { dataDir: config.dataDir },
      'no JWT_SECRET or JWT_JWKS_URL: using the local development secret (ttpgraph token signs with it)',
    );
  }
  const verifier = createTokenVerifier(dev.auth);
  const authorizer = await createAuthorizer();
  let status: StatusService | undefined;
  const metrics = new Metrics(() =>
    status ? status.status() : Promise.reject(new Error('not ready')),
  );
  const connection = await connect(config, log, (name, mode, seconds, failed) =>
    metrics.observeQuery(name, mode, seconds, failed),
  );
  try {
    await applySchema(connection.graph);
    status = new StatusService(connection.graph);
    const mappings = new MappingService(connection.graph);
    const importer = new ImportService(connection.graph, log, config.importBatchSize, () =>
      mappings.applyRelease(),
    );
    const cache = new ReleaseCache(
      connection.graph,
      log,
      config.cache.entries,
      config.cache.pollMs,
    );
    await cache.start();
    const runs = new SyncRunStore(connection.graph, log);
    const sync = new SyncService(connection.graph, importer, config, log);
    // The scheduler runs only where syncing is on; tests and benchmarks turn it off.
    const scheduler =
      config.sync.schedule.kind === 'off'
        ? undefined
        : new SyncScheduler(config, log, connection.graph, runs, () => cache.invalidate());
    await scheduler?.start();
    const app = createApp({
      config,
      log,
      graph: connection.graph,
      verifier,
      authorizer,
      metrics,
      sync,
      status,
      cache,
      mappings,
      runs,
      releases: new ReleaseService(connection.graph),
      scheduler,
    });
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(config.http.port, config.http.host, () => resolve(s));
      s.once('error', reject);
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    log.info({ url, neo4j: connection.graph.uri }, 'ttpgraph API listening');
    return {
      url,
      address,
      connection,
      scheduler,
      close: async () => {
        await scheduler?.stop(config.http.shutdownGraceMs);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs);
        await closed;
        clearTimeout(timer);
        cache.stop();
        await connection.close();
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
