import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { applySchema } from '../attack/schema';
import type { StatusService } from '../attack/status-service';
import { createAuthorizer } from '../auth/authorization';
import { createTokenVerifier, withDevelopmentSecret } from '../auth/identity';
import { ConfigError, type Config } from '../shared/config';
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

/** Listens, or says which address is taken and how to choose another. */
function listen(server: Server, host: string, port: number): Promise<Server> {
  server.on('clientError', answerClientError);
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(
              `port ${port} on ${host} is taken by another program: choose another with HTTP_PORT (for example HTTP_PORT=${port + 1})`,
            )
          : err.code === 'EACCES'
            ? new ConfigError(
                `no permission to listen on ${host}:${port}: choose HTTP_PORT above 1023`,
              )
            : err,
      );
    });
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * What Node's HTTP parser refuses never reaches Express: it is answered here as problem+json
 * (431 for headers over the limit, 400 for the rest) and the connection closed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const large = err.code === 'HPE_HEADER_OVERFLOW';
  const status = large ? 431 : 400;
  const title = large ? 'Request Header Fields Too Large' : 'Bad Request';
  const body = JSON.stringify({
    type: large
      ? 'https://ttpgraph.dev/problems/headers-too-large'
      : 'https://ttpgraph.dev/problems/bad-request',
    title,
    status,
    detail: large ? 'the request headers are over the server limit' : 'malformed HTTP request',
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Composes the service (Neo4j, schema, auth, app) and listens. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  // Said before Neo4j is started, not half a minute later.
  if (config.http.port !== 0)
    await listen(createServer(), config.http.host, config.http.port).then(
      (probe) => new Promise((r) => probe.close(r)),
    );
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
    const services = await composeServices(connection.graph, config, log, authorizer);
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
    const server = await listen(createServer(app), config.http.host, config.http.port);
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    log.info({ url, neo4j: connection.graph.uri }, 'ttpgraph API listening');
    // The enrichment model is built (or its kept weights loaded) now, not at the first request.
    void services.enrichment.warm();
    // So is the next-step model's snapshot (rebuilt first if the data moved on without it).
    void services.reporting.nextSteps
      .snapshot()
      .catch((err: unknown) =>
        log.info({ err: (err as Error).message }, 'next-step model not loaded at start'),
      );
    return {
      url,
      address,
      connection,
      close: async () => {
        // New connections are refused at once; requests in flight finish (within the grace).
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs);
        await services.stop(config.http.shutdownGraceMs);
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
