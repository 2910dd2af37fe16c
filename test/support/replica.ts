import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_SECRET } from './api';
import { freePort } from './net';

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
        TTPGRAPH_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ttpgraph-replica-')),
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
