import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImportService } from '../../src/attack/import-service';
import { applySchema } from '../../src/attack/schema';
import { MappingService } from '../../src/mappings/mapping-service';
import { loadConfig } from '../../src/shared/config';
import { startLocalNeo4j, type LocalNeo4j } from '../../src/shared/local-neo4j';
import { openGraph, type Graph } from '../../src/shared/neo4j';
import { SyncRunStore } from '../../src/sync/run-store';
import { SyncService } from '../../src/sync/sync-service';
import { ATTACK_DATA, FIXTURE, silentLogger } from '../support/graph';
import { freePort } from '../support/net';

// Neo4j stops while a release is being written: the transaction rolls back, the previous release
// and the mappings are there when it is back, the failure is recorded, the next run completes.
// This suite runs its own Neo4j, apart from the suite's shared one.
const home = mkdtempSync(path.join(tmpdir(), 'ttpgraph-sync-restart-'));
let port: number;
let neo4j: LocalNeo4j;
let graph: Graph;

const start = () => {
  const cfg = loadConfig({ ...process.env, TTPGRAPH_NEO4J_PORT: String(port) });
  return startLocalNeo4j({ ...cfg.localNeo4j, home, port });
};

async function held() {
  const [row] = await graph.read<{
    nodes: number;
    mappings: number;
    version: string;
    error: string | null;
  }>(
    `MATCH (d:AttackDomain {name: 'enterprise-attack'})
     RETURN COUNT { (:AttackObject) } AS nodes, COUNT { (:Mapping) } AS mappings,
            d.version AS version, d.last_error AS error`,
  );
  return row;
}

beforeAll(async () => {
  port = await freePort();
  neo4j = await start();
  graph = await openGraph({ ...loadConfig().neo4j, uri: neo4j.uri });
  await applySchema(graph);
});
afterAll(async () => {
  await graph?.close();
  await neo4j?.stop();
  rmSync(home, { recursive: true, force: true });
});

it('keeps the previous release and the mappings when Neo4j stops mid-release', async () => {
  // A short lease: the failed run could not release its own (the database was gone).
  const config = loadConfig({
    ...process.env,
    NEO4J_URI: neo4j.uri,
    TTPGRAPH_SYNC_LEASE_MS: '3000',
  });
  const mappings = new MappingService(graph);
  const importer = new ImportService(graph, silentLogger, 2_000, () => mappings.applyRelease());
  const sync = new SyncService(graph, importer, config, silentLogger);
  expect((await sync.run({ trigger: 'cli', urls: [FIXTURE] })).state).toBe('succeeded');
  await mappings.create({ tenant: 'acme', userId: 'alice', entityScope: null }, 'alert', [
    { alert_id: 'A-1', technique: 'T1059' },
  ]);
  const before = await held();
  expect(before).toMatchObject({ nodes: 27, mappings: 1 });

  const full = path.join(ATTACK_DATA, 'enterprise-attack-18.1.json.gz');
  let stopping: Promise<void> | undefined;
  const failed = await sync.run({
    trigger: 'cli',
    urls: [full],
    onProgress: (p) => {
      // Halfway through writing the relationships, the database goes away.
      if (!stopping && p.phase === 'create relationships' && p.done > 5_000)
        stopping = neo4j.stop();
    },
  });
  await stopping;
  expect(failed.state).toBe('failed');
  expect(failed.error).toMatch(/unavailable|connection|closed/i);
  expect(failed.recorded).toBe(false);

  neo4j = await start();
  // What a scheduler does with a run it could not record, once the database is back.
  expect(await new SyncRunStore(graph, silentLogger).record(failed, [], [])).toBe(true);
  const after = await held();
  expect({ ...after, error: null }).toEqual({ ...before, error: null });
  expect(after?.error).toMatch(/unavailable|connection|closed/i);

  await new Promise((r) => setTimeout(r, 3_000));
  const good = await sync.run({ trigger: 'cli', urls: [full] });
  expect(good.state).toBe('succeeded');
  const done = await held();
  expect(done?.nodes).toBeGreaterThan(4_000);
  expect(done).toMatchObject({ mappings: 1, error: null });
});
