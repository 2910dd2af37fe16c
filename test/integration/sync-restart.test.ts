import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImportService } from '../../src/attack/import-service';
import { applySchema } from '../../src/attack/schema';
import { createAuthorizer } from '../../src/auth/authorization';
import { MappingService } from '../../src/mappings/mapping-service';
import { loadConfig } from '../../src/shared/config';
import { startLocalNeo4j, type LocalNeo4j } from '../../src/shared/local-neo4j';
import { createDriver, openGraph, type Graph } from '../../src/shared/neo4j';
import { SYNC_LEASE } from '../../src/sync/lease';
import { SyncRunStore } from '../../src/sync/run-store';
import { SyncService } from '../../src/sync/sync-service';
import { FIXTURE, fixtureBundle, silentLogger } from '../support/graph';
import { freePort } from '../support/net';

// Neo4j crashes while a release is being written: the transaction never commits, the previous
// release and the mappings are there when it is back, the failure is recorded, the next run
// completes once the dead run's lease has expired.
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

/** The fixture as a later release, one technique's description changed. */
function laterRelease(): string {
  const b = fixtureBundle();
  const collection = b.objects.find((o) => o.type === 'x-mitre-collection') as StixLike;
  collection.x_mitre_version = '18.2';
  collection.modified = '2025-12-01T00:00:00.000Z';
  const t = b.objects.find((o) => o.type === 'attack-pattern') as StixLike;
  t.description = 'as of 18.2';
  t.modified = '2025-12-01T00:00:00.000Z';
  const file = path.join(home, 'enterprise-attack-18.2.json');
  writeFileSync(file, JSON.stringify(b));
  return file;
}
type StixLike = Record<string, unknown>;

/** Resolves once `done` holds, asking every 50 ms (each wait below is for an event, not a time). */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((r) => setTimeout(r, 50));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Kills the Neo4j process outright (no clean shutdown: it recovers from its log at start). */
async function crash(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  await until(() => !alive(pid));
}

/** Resolves once a transaction on the server waits for a lock. */
const someoneBlocked = () =>
  until(async () => {
    const [row] = await graph.read<{ n: number }>(
      `SHOW TRANSACTIONS YIELD status WHERE status STARTS WITH 'Blocked' RETURN count(*) AS n`,
    );
    return (row?.n ?? 0) > 0;
  });

/** Resolves once the lease a dead run left behind has expired by the database's clock. */
const leaseFree = () =>
  until(async () => {
    const [row] = await graph.read<{ free: boolean }>(
      `OPTIONAL MATCH (l:SyncLease {name: $name})
       RETURN l IS NULL OR l.owner IS NULL OR l.expires_at < datetime() AS free`,
      { name: SYNC_LEASE },
    );
    return row?.free === true;
  });

it('keeps the previous release and the mappings when Neo4j stops mid-release', async () => {
  // A short lease: the failed run could not release its own (the database was gone).
  const config = loadConfig({
    ...process.env,
    NEO4J_URI: neo4j.uri,
    TTPGRAPH_SYNC_LEASE_MS: '3000',
  });
  const mappings = new MappingService(graph, await createAuthorizer());
  const importer = new ImportService(graph, silentLogger, 2_000, () => mappings.applyRelease());
  const sync = new SyncService(graph, importer, config, silentLogger);
  expect((await sync.run({ trigger: 'cli', urls: [FIXTURE] })).state).toBe('succeeded');
  await mappings.create(
    { tenant: 'acme', userId: 'alice', groups: [], superuser: false, entityScope: null },
    'alert',
    [{ alert_id: 'A-1', technique: 'T1059' }],
  );
  const before = await held();
  expect(before).toMatchObject({ nodes: 27, mappings: 1, version: '18.1' });

  // The release's transaction reaches the domain node and waits: a transaction of this test holds
  // its lock. Neo4j stops while the release waits, so it can never have committed.
  const driver = createDriver({ ...loadConfig().neo4j, uri: neo4j.uri });
  const blocker = driver.session().beginTransaction();
  await blocker.run(`MATCH (d:AttackDomain {name: 'enterprise-attack'}) SET d.held_by_test = true`);
  const later = laterRelease();
  const failing = sync.run({ trigger: 'cli', urls: [later] });
  await someoneBlocked();
  await crash(neo4j.pid);
  const failed = await failing;
  await driver.close().catch(() => undefined);
  expect(failed.state).toBe('failed');
  expect(failed.error).toMatch(/unavailable|connection|closed|terminated/i);
  expect(failed.recorded).toBe(false);

  neo4j = await start();
  // Once this process's breaker has seen the database back (it answers 503 at once until a probe
  // succeeds), what a scheduler does with a run it could not record.
  await until(() =>
    graph.read('RETURN 1 AS one').then(
      () => true,
      () => false,
    ),
  );
  expect(await new SyncRunStore(graph, silentLogger).record(failed, [], [])).toBe(true);
  const after = await held();
  expect({ ...after, error: null }).toEqual({ ...before, error: null });
  expect(after?.error).toMatch(/unavailable|connection|closed|terminated/i);

  await leaseFree();
  const good = await sync.run({ trigger: 'cli', urls: [later] });
  expect(good.state).toBe('succeeded');
  expect(await held()).toEqual({ nodes: 27, mappings: 1, version: '18.2', error: null });
});
