import { readFileSync } from 'node:fs';
import path from 'node:path';
import { applySchema } from '../../src/attack/schema';
import { loadConfig } from '../../src/shared/config';
import { createLogger } from '../../src/shared/logger';
import {
  decodeManifest,
  manifestsFromElements,
  type DomainManifest,
  type ElementRow,
} from '../../src/attack/manifest';
import { loadQueries } from '../../src/shared/cypher';
import { openGraph, type Graph, type QueryObserver } from '../../src/shared/neo4j';
import { sha256Bytes, type FetchedBundle } from '../../src/attack/bundle-source';
import { SYNC_LEASE } from '../../src/sync/lease';

export const ATTACK_DATA = path.resolve(__dirname, '../../../shared/attack-data');
export const FIXTURE = path.resolve(__dirname, '../fixtures/enterprise-mini.json');

export const silentLogger = createLogger('silent');

/** The test Neo4j (started by global-setup), emptied, with the schema applied. */
export async function freshGraph(observe?: QueryObserver): Promise<Graph> {
  const cfg = loadConfig();
  if (!cfg.neo4j.uri) throw new Error('NEO4J_URI is not set: global-setup did not run');
  const graph = await openGraph({ ...cfg.neo4j, uri: cfg.neo4j.uri }, observe);
  // In batches: a suite may leave more than one transaction may delete within Neo4j's memory.
  for (;;) {
    const [row] = await graph.write<{ n: number }>(
      'MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS n',
    );
    if ((row?.n ?? 0) === 0) break;
  }
  await applySchema(graph);
  return graph;
}

export function bundleBytes(bytes: Buffer, source: string): FetchedBundle {
  return { bytes, source, sha256: sha256Bytes(bytes) };
}

export function fixtureBundle(): {
  type: string;
  id: string;
  objects: Array<Record<string, unknown>>;
} {
  return JSON.parse(readFileSync(FIXTURE, 'utf8'));
}

export function asFetched(bundle: unknown, source = 'test'): FetchedBundle {
  return bundleBytes(Buffer.from(JSON.stringify(bundle)), source);
}

export function attackData(file: string): FetchedBundle {
  const p = path.join(ATTACK_DATA, file);
  return bundleBytes(readFileSync(p), p);
}

/**
 * Each domain's stored import manifest, and the one its graph elements say it should be. The hash
 * of the bytes as received and the reference fields kept for an object held as received are not
 * read back from the graph: `stored` leaves them out, `rawMissing` counts the stored entries
 * without a raw hash.
 */
export async function manifests(graph: Graph): Promise<{
  stored: Map<string, DomainManifest | null>;
  fromGraph: Map<string, DomainManifest>;
  rawMissing: number;
}> {
  const rows = await graph.read<{ name: string; manifest: string | null }>(
    'MATCH (d:AttackDomain) RETURN d.name AS name, d.manifest AS manifest',
  );
  const q = loadQueries(['attack/read-elements']);
  let rawMissing = 0;
  const withoutRaw = <E extends { raw: string; refs?: unknown }>(m: Map<string, E>) =>
    new Map(
      [...m].map(([id, { refs: _refs, ...e }]) => {
        if (e.raw === '') rawMissing++;
        return [id, { ...e, raw: '' }];
      }),
    );
  const stored = new Map(
    rows.map((r) => {
      const m = decodeManifest(r.manifest);
      return [r.name, m && { nodes: withoutRaw(m.nodes), edges: withoutRaw(m.edges) }];
    }),
  );
  return {
    stored,
    fromGraph: manifestsFromElements(await graph.read<ElementRow>(q['attack/read-elements'])),
    rawMissing,
  };
}

/**
 * Another holder takes the sync lease through the real acquire statement and never renews it, as a
 * crashed or busy instance would; `expire()` lets its time run out, `release()` frees it.
 */
export async function holdLease(
  graph: Graph,
  owner: string,
  ttlMs = 60_000,
): Promise<{ expire(): Promise<void>; release(): Promise<void> }> {
  const [taken] = await graph.write<{ acquired: boolean }>(
    loadQueries(['sync/lease-acquire'])['sync/lease-acquire'],
    { name: SYNC_LEASE, owner, ttlMs },
  );
  if (!taken?.acquired)
    throw new Error(`the sync lease is already held: ${owner} could not take it`);
  return {
    expire: async () => {
      await graph.write(
        `MATCH (l:SyncLease {name: $name}) SET l.expires_at = datetime() - duration('PT1S')`,
        { name: SYNC_LEASE },
      );
    },
    release: async () => {
      await graph.write(loadQueries(['sync/lease-release'])['sync/lease-release'], {
        name: SYNC_LEASE,
        owner,
      });
    },
  };
}
