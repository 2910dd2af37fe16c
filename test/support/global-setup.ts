import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/shared/config';
import { startLocalNeo4j } from '../../src/shared/local-neo4j';

const ROOT = path.resolve(__dirname, '../..');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * The CLI tests and the Bree worker run compiled code: a plain `npx jest` must not test a stale
 * dist/. Built here when any source is newer than it.
 */
function buildIfStale(): void {
  const built = path.join(ROOT, 'dist/src/cli/main.js');
  const sources = Math.max(...['src', 'jobs', 'bench'].map((d) => newest(path.join(ROOT, d))));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  process.stderr.write('global-setup: building dist/ (sources changed)\n');
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
}

/**
 * One real Neo4j for the whole run: NEO4J_URI when set; else Testcontainers when a Docker engine
 * answers; else the project's local launcher on a free port with a throw-away data directory.
 * The URI reaches the test files through process.env.
 */
export default async function globalSetup(): Promise<void> {
  buildIfStale();
  // Every test file's temporary directories go under one root, removed by the teardown.
  process.env.TTPGRAPH_TEST_SCRATCH = mkdtempSync(path.join(tmpdir(), 'ttpgraph-test-'));
  if (process.env.NEO4J_URI) return;
  if (process.env.DOCKER_HOST || existsSync('/var/run/docker.sock')) {
    try {
      const { Neo4jContainer } = await import('@testcontainers/neo4j');
      const container = await new Neo4jContainer('neo4j:5.26-community')
        .withPassword('ttpgraph-test')
        .start();
      process.env.NEO4J_URI = container.getBoltUri();
      process.env.NEO4J_USER = container.getUsername();
      process.env.NEO4J_PASSWORD = container.getPassword();
      (globalThis as Record<string, unknown>).__TTPGRAPH_NEO4J_STOP__ = () => container.stop();
      return;
    } catch (err) {
      process.stderr.write(
        `Testcontainers unavailable (${(err as Error).message}); using the local launcher\n`,
      );
    }
  }
  const cfg = loadConfig({ ...process.env, TTPGRAPH_NEO4J_PORT: '0' }).localNeo4j;
  const home = path.join(process.env.TTPGRAPH_TEST_SCRATCH, 'neo4j');
  const neo4j = await startLocalNeo4j({ ...cfg, home, port: 0 });
  process.env.NEO4J_URI = neo4j.uri;
  (globalThis as Record<string, unknown>).__TTPGRAPH_NEO4J_STOP__ = () => neo4j.stop();
}
