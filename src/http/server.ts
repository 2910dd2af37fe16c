import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applySchema } from '../attack/schema';
import type { StatusService } from '../attack/status-service';
import { createAuthorizer } from '../auth/authorization';
import { createTokenVerifier, withDevelopmentSecret } from '../auth/identity';
import type { Config } from '../shared/config';
import { connect, type Connection } from '../shared/database';
import type { Logger } from '../shared/logger';
import { createApp } from './app';
import { Metrics } from './metrics';
import { composeServices } from './services';

export interface RunningServer {
  url: string;
  address: AddressInfo;
  connection: Connection;
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
  const authorizer = await createAuthorizer();
  const verifier = createTokenVerifier(dev.auth, { tokenRoles: authorizer.tokenRoles, log });
  let status: StatusService | undefined;
  const metrics = new Metrics(() =>
    status ? status.status() : Promise.reject(new Error('not ready')),
  );
  const connection = await connect(config, log, (name, mode, seconds, failed) =>
    metrics.observeQuery(name, mode, seconds, failed),
  );
  try {
    await applySchema(connection.graph);
    const services = await composeServices(connection.graph, config, log);
    status = services.status;
    const app = createApp({
      config,
      log,
      graph: connection.graph,
      verifier,
      authorizer,
      metrics,
      ...services,
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
      close: async () => {
        await services.stop(config.http.shutdownGraceMs);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs);
        await closed;
        clearTimeout(timer);
        await connection.close();
      },
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
