import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/shared/config';
import { startLocalNeo4j } from '../src/shared/local-neo4j';
import type { Graph } from '../src/shared/neo4j';
import { packageRoot } from '../src/shared/paths';

export const ATTACK_DATA =
  process.env.TTPGRAPH_ATTACK_DATA ?? path.resolve(packageRoot(), '..', 'shared', 'attack-data');

export const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
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
