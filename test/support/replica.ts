import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_SECRET } from './api';
import { freePort } from './net';
import { scratchDir } from './scratch';

const ROOT = path.resolve(__dirname, '../..');

export interface Replica {
  readonly url: string;
  readonly pid: number;
  /** Everything the process wrote to stderr (its structured log) so far. */
  log(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** SIGKILL: the process dies where it is, as a crashed container would. */
  kill(): Promise<number | string>;
  /** SIGTERM: what an orchestrator sends before it stops a container. */
  terminate(): Promise<number | string>;
}

/**
 * `ttpgraph serve` as its own process on the test Neo4j (the built CLI, as a container runs it),
 * resolved once it answers /healthz. `root` is where dist/ lies (the repository by default).
 */
export async function startReplica(
  env: Record<string, string> = {},
  root = ROOT,
): Promise<Replica> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(root, 'dist/src/cli/main.js'), 'serve'],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        NEO4J_URI: process.env.NEO4J_URI,
        NEO4J_USER: process.env.NEO4J_USER,
        NEO4J_PASSWORD: process.env.NEO4J_PASSWORD,
        HTTP_PORT: String(port),
        JWT_SECRET: TEST_SECRET,
        TTPGRAPH_DATA_DIR: scratchDir('ttpgraph-replica-'),
        TTPGRAPH_SYNC_INTERVAL: 'off',
        TTPGRAPH_RATE_LIMIT_RPS: '0',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  let running = true;
  void exited.then(() => (running = false));
  for (;;) {
    if (!running) throw new Error(`ttpgraph serve exited before it answered:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ttpgraph serve did not answer /healthz in 60 s:\n${stderr}`);
    }
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const signal = (name: NodeJS.Signals) => {
    if (running) child.kill(name);
    return exited;
  };
  return {
    url,
    pid: child.pid as number,
    log: () => stderr,
    exited,
    kill: () => signal('SIGKILL'),
    terminate: () => signal('SIGTERM'),
  };
}

export interface Answer {
  status: number;
  /** 0 when the connection was refused or cut: the request got no answer. */
  body: Record<string, unknown>;
  contentType: string;
  ms: number;
}

/** One API request as an outside client makes it (a new connection when `fresh`). */
export async function call(
  base: string,
  method: string,
  route: string,
  bearer: string,
  body?: unknown,
): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}/api/v1/mitre${route}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      contentType: res.headers.get('content-type') ?? '',
      ms: performance.now() - started,
    };
  } catch {
    return { status: 0, body: {}, contentType: '', ms: performance.now() - started };
  }
}

/** `n` alert mappings of new alerts `<prefix>-<i>` to T1059, as one bulk body. */
export function bulkOf(
  prefix: string,
  n: number,
): { items: Array<{ alert_id: string; technique: string }> } {
  return {
    items: Array.from({ length: n }, (_, i) => ({
      alert_id: `${prefix}-${i}`,
      technique: 'T1059',
    })),
  };
}

/** A round-robin HTTP proxy over `targets`: each request goes to the next one, as a balancer's. */
export async function roundRobin(
  targets: string[],
): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer, request } = await import('node:http');
  let next = 0;
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', targets[next++ % targets.length]);
    const upstream = request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
