import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fetchBundle } from '../src/attack/bundle-source';
import { ImportService } from '../src/attack/import-service';
import { applySchema } from '../src/attack/schema';
import { startServer } from '../src/http/server';
import { loadConfig } from '../src/shared/config';
import { createLogger } from '../src/shared/logger';
import { startLocalNeo4j } from '../src/shared/local-neo4j';
import { openGraph, type Graph } from '../src/shared/neo4j';
import { packageRoot } from '../src/shared/paths';

export const ATTACK_DATA =
  process.env.TTPGRAPH_ATTACK_DATA ?? path.resolve(packageRoot(), '..', 'shared', 'attack-data');

export const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

/** The schema, then Enterprise 18.1 from ../shared/attack-data: what the API benchmarks read. */
export async function loadEnterprise(graph: Graph): Promise<void> {
  await applySchema(graph);
  say('loading Enterprise 18.1');
  const bundle = await fetchBundle(path.join(ATTACK_DATA, 'enterprise-attack-18.1.json.gz'), {
    timeoutMs: 60_000,
    maxBytes: 1e9,
  });
  await new ImportService(graph, createLogger('silent')).importBytes(bundle);
}

/** The benchmark's graph: NEO4J_URI or a local Neo4j, with Enterprise 18.1 imported unless held. */
export async function enterpriseGraph(): Promise<{
  graph: Graph;
  uri: string;
  stop(): Promise<void>;
}> {
  const neo = await benchNeo4j();
  const graph = await openGraph({ ...loadConfig().neo4j, uri: neo.uri });
  const [held] = await graph.read<{ n: number }>(
    `MATCH (t:Technique) WHERE 'enterprise-attack' IN t.domains RETURN count(t) AS n`,
  );
  if ((held?.n ?? 0) === 0) await loadEnterprise(graph);
  return {
    graph,
    uri: neo.uri,
    stop: async () => {
      await graph.close();
      await neo.stop();
    },
  };
}

export async function emptyDatabase(graph: Graph): Promise<void> {
  await graph.write('MATCH (n) DETACH DELETE n');
}

/** NEO4J_URI when set; else a local Neo4j on a free port with a throw-away data directory. */
export async function benchNeo4j(): Promise<{ uri: string; stop(): Promise<void> }> {
  const cfg = loadConfig();
  if (cfg.neo4j.uri) return { uri: cfg.neo4j.uri, stop: async () => undefined };
  const home = mkdtempSync(path.join(tmpdir(), 'ttpgraph-bench-'));
  say('starting the local Neo4j');
  const local = await startLocalNeo4j({ ...cfg.localNeo4j, home, port: 0 });
  return {
    uri: local.uri,
    stop: async () => {
      await local.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The JWT secret of the services the benchmarks start. */
export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret';

/** Child entry: the real service on a free port, no scheduler; prints where it listens. */
export async function serveApp(): Promise<void> {
  const config = loadConfig({
    ...process.env,
    HTTP_PORT: '0',
    JWT_SECRET: BENCH_SECRET,
    LOG_LEVEL: 'error',
    TTPGRAPH_SYNC_INTERVAL: 'off',
    // The load generator is one user: measure the service, not its per-user limit.
    TTPGRAPH_RATE_LIMIT_RPS: '0',
  });
  const server = await startServer(config, createLogger('error'));
  process.stdout.write(`LISTENING ${server.url}\n`);
}

/**
 * Runs `script mode` in a child process against Neo4j at `uri` and resolves once it listens: the
 * servers measured live in their own processes, as deployed, not in the load generator's heap.
 */
export function spawnServer(
  script: string,
  mode: string,
  uri: string,
): Promise<{ url: string; proc: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [script, mode], {
      env: { ...process.env, NEO4J_URI: uri },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /LISTENING (\S+)/.exec(out);
      if (m?.[1]) resolve({ url: m[1], proc });
    });
    proc.on('exit', (code) => reject(new Error(`${mode} exited ${code}`)));
  });
}

/**
 * Waits for a started service's own start-up work (the enrichment model and the next-step model,
 * built or loaded in the background) by asking each once: measured requests should not share the
 * two cores with it.
 */
export async function settled(url: string, bearer: string): Promise<void> {
  const headers = { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' };
  const started = performance.now();
  for (const [route, body] of [
    ['enrich/', { items: [{ id: 'settle', text: 'powershell -enc' }] }],
    ['next-steps/', { techniques: ['T1059'] }],
  ] as const) {
    const res = await fetch(`${url}/api/v1/mitre/${route}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${route} answered ${res.status}: ${await res.text()}`);
  }
  say(`service settled (models ready) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
