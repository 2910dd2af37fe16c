import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { applySchema } from '../../src/attack/schema';
import { ImportService } from '../../src/attack/import-service';
import { loadConfig } from '../../src/shared/config';
import { startLocalNeo4j, type LocalNeo4j } from '../../src/shared/local-neo4j';
import { openGraph, type Graph } from '../../src/shared/neo4j';
import { analyst, superuser, token } from '../support/api';
import { ATTACK_DATA, bundleBytes, FIXTURE, silentLogger } from '../support/graph';
import { freePort } from '../support/net';
import { bulkOf, call, startReplica, type Answer } from '../support/replica';
import { scratchDir } from '../support/scratch';

// Failures an operator meets, each against its own local Neo4j (one this suite may stop) and
// `ttpgraph serve` processes: the database restarting, SIGTERM, a replica or a sync holder killed.
// What a client was told was created is counted, and must be in the graph afterwards.
let neo4j: LocalNeo4j;
let graph: Graph;
const home = scratchDir('ttpgraph-faults-neo4j-');
let port: number;
const localCfg = () => ({
  ...loadConfig({ ...process.env, TTPGRAPH_NEO4J_PORT: '0' }).localNeo4j,
  home,
  port,
  heap: '768m',
  pageCacheMb: 128,
});
const on = () => ({ NEO4J_URI: neo4j.uri, NEO4J_USER: 'neo4j', NEO4J_PASSWORD: '' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  port = await freePort();
  neo4j = await startLocalNeo4j(localCfg());
  graph = await openGraph({ uri: neo4j.uri, user: 'neo4j', database: 'neo4j' });
  await applySchema(graph);
  await new ImportService(graph, silentLogger).importBytes(
    bundleBytes(readFileSync(FIXTURE), FIXTURE),
  );
});
afterAll(async () => {
  await graph.close();
  await neo4j.stop();
});

async function alertsMapped(prefix: string, tenant = 'acme'): Promise<number> {
  const [row] = await graph.read<{ n: number }>(
    'MATCH (a:Alert {tenant: $tenant})-[:HAS_MAPPING]->(m:Mapping) WHERE a.id STARTS WITH $prefix RETURN count(m) AS n',
    { tenant, prefix: `${prefix}-` },
  );
  return row?.n ?? 0;
}

it('answers 503 at once while Neo4j is down for 10 s and recovers without a restart', async () => {
  const server = await startReplica(on());
  const bearer = await analyst();
  try {
    // A reference answer made before the outage is served from memory through it.
    expect((await call(server.url, 'GET', '/techniques/T1059/', bearer)).status).toBe(200);
    const acknowledged: string[] = [];
    const answers: Array<Answer & { at: number; kind: string }> = [];
    let n = 0;
    let stop = false;
    const t0 = Date.now();
    const client = async () => {
      while (!stop) {
        const id = `OUT-${n++}`;
        const created = await call(server.url, 'POST', '/alert-mappings/', bearer, {
          alert_id: id,
          technique: 'T1059',
        });
        answers.push({ ...created, at: Date.now() - t0, kind: 'create' });
        if (created.status === 201) acknowledged.push(id);
        const list = await call(server.url, 'GET', '/alert-mappings/?limit=5', bearer);
        answers.push({ ...list, at: Date.now() - t0, kind: 'list' });
        const ref = await call(server.url, 'GET', '/techniques/T1059/', bearer);
        answers.push({ ...ref, at: Date.now() - t0, kind: 'reference' });
        await sleep(50);
      }
    };
    const clients = [client(), client(), client()];
    let downAt = 0;
    let upAt = 0;
    let recoveredAt = 0;
    try {
      // Enough acknowledged writes before the outage to make "nothing lost" mean something; a
      // loaded machine may need more than the usual second for them.
      for (const deadline = Date.now() + 30_000; Date.now() < deadline && acknowledged.length < 6;)
        await sleep(100);
      await sleep(500);
      downAt = Date.now() - t0;
      await neo4j.stop();
      await sleep(10_000);
      upAt = Date.now() - t0;
      neo4j = await startLocalNeo4j(localCfg());
      // Recovered: creates and lists succeed again through the same process.
      for (const deadline = Date.now() + 60_000; Date.now() < deadline && !recoveredAt;) {
        await sleep(500);
        const recent = answers.filter((a) => a.at > upAt && a.kind !== 'reference').slice(-6);
        const createdSince = recent.filter((a) => a.kind === 'create' && a.status === 201);
        if (
          recent.length === 6 &&
          createdSince.length >= 3 &&
          recent.every((a) => a.status === 200 || a.status === 201)
        )
          recoveredAt = Date.now() - t0;
      }
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect(recoveredAt).toBeGreaterThan(0);
    expect(server.log()).not.toMatch(/"status":500/);

    const outage = answers.filter((a) => a.at > downAt + 500 && a.at < upAt);
    const failed = outage.filter((a) => a.kind !== 'reference');
    expect(failed.length).toBeGreaterThan(20);
    // Every failure is a 503 problem, none hung: most at once, the worst within the driver's
    // connection and retry bounds.
    for (const a of failed) {
      expect(a.status).toBe(503);
      expect(a.contentType).toMatch(/application\/problem\+json/);
    }
    const fast = failed.filter((a) => a.ms < 500).length;
    expect(fast / failed.length).toBeGreaterThan(0.9);
    // In flight when it stopped, a request waits for Neo4j's own shutdown (up to 10 s for open
    // transactions, db.shutdown_transaction_end_timeout), then the driver's retries (5 s) and a
    // connection attempt (5 s): the bound for the worst case.
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(20_000);
    expect(outage.filter((a) => a.kind === 'reference').every((a) => a.status === 200)).toBe(true);
    // Nothing acknowledged was lost.
    await graph.close();
    graph = await openGraph({ uri: neo4j.uri, user: 'neo4j', database: 'neo4j' });
    const [row] = await graph.read<{ ids: string[] }>(
      'MATCH (a:Alert {tenant: $tenant})-[:HAS_MAPPING]->(:Mapping) WHERE a.id IN $ids RETURN collect(a.id) AS ids',
      { tenant: 'acme', ids: acknowledged },
    );
    expect(new Set(row?.ids)).toEqual(new Set(acknowledged));
    // Acknowledged both before the outage and after the recovery.
    expect(acknowledged.length).toBeGreaterThan(8);
  } finally {
    await server.terminate();
  }
});

/** True when a new connection to `url` is refused (or answered 503). */
function refusesNew(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 503);
    });
    req.on('error', () => resolve(true));
    req.end();
  });
}

it('on SIGTERM finishes the requests in flight, refuses new ones and exits 0', async () => {
  // A grace longer than a cold replica (building its enrichment model) takes for these bulks.
  const server = await startReplica({ ...on(), TTPGRAPH_SHUTDOWN_GRACE_MS: '60000' });
  const tokens = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      token({ sub: 'alice', tenant: `term${i}`, roles: ['analyst'] }),
    ),
  );
  const sent = tokens.map((bearer, i) =>
    call(server.url, 'POST', '/alert-mappings/bulk/', bearer, bulkOf(`TERM${i}`, 300)).then(
      (a) => ({ ...a, done: Date.now() }),
    ),
  );
  // Once a later connection is answered, the server has accepted the eight before it (a busy
  // event loop, such as a replica building its enrichment model, accepts in order): they are in
  // flight. A request still in the listen backlog at SIGTERM is a new one, and is refused.
  await sleep(300);
  expect(await refusesNew(server.url)).toBe(false);
  const termAt = Date.now();
  const exit = server.terminate();
  // Once the process has taken the signal (a busy event loop may delay it), new connections
  // are refused while the requests in flight go on.
  let refused = false;
  for (const until = Date.now() + 5_000; !refused && Date.now() < until; await sleep(50))
    refused = await refusesNew(server.url);
  expect(refused).toBe(true);
  const answers = await Promise.all(sent);
  expect(await exit).toBe(0);
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
  // The signal did land while work was in flight.
  expect(Math.max(...answers.map((a) => a.done))).toBeGreaterThan(termAt + 100);
  for (let i = 0; i < 8; i++) expect(await alertsMapped(`TERM${i}`, `term${i}`)).toBe(300);
});

it('loses a bulk whole or keeps it whole when its replica is killed mid-request', async () => {
  const bearer = await analyst();
  const outcomes: number[] = [];
  for (const [round, delay] of [250, 900, 1_800].entries()) {
    const server = await startReplica(on());
    const pending = call(
      server.url,
      'POST',
      '/alert-mappings/bulk/',
      bearer,
      bulkOf(`KILL${round}`, 10_000),
    );
    await sleep(delay);
    await server.kill();
    const answer = await pending;
    const stored = await alertsMapped(`KILL${round}`);
    expect([0, 10_000]).toContain(stored);
    if (answer.status === 201) expect(stored).toBe(10_000);
    outcomes.push(stored);
  }
  // At least one kill landed before the commit: the case this test is about.
  expect(outcomes).toContain(0);
});

it('lets another replica take the sync lease when its holder is killed mid-release, and applies it once', async () => {
  const bundle = path.join(ATTACK_DATA, 'enterprise-attack-18.1.json.gz');
  const env = {
    ...on(),
    TTPGRAPH_IMPORT_URLS: bundle,
    TTPGRAPH_SYNC_INTERVAL: '1d',
    TTPGRAPH_SYNC_ON_START: 'false',
    TTPGRAPH_SYNC_LEASE_MS: '3000',
  };
  const root = await superuser();
  const first = await startReplica(env);
  const started = await call(first.url, 'POST', '/sync/', root, {});
  expect(started.status).toBe(202);
  // Killed while it holds the lease and is into the release.
  const lease = async () =>
    (
      await graph.read<{ owner: string }>(
        "MATCH (l:SyncLease {name: 'attack-sync'}) WHERE l.expires_at > datetime() RETURN l.owner AS owner",
      )
    )[0]?.owner;
  const deadline = Date.now() + 30_000;
  while (!(await lease())?.includes(`:${first.pid}:`) && Date.now() < deadline) await sleep(100);
  const holder = await lease();
  if (!holder?.includes(`:${first.pid}:`))
    throw new Error(`the first replica never held the lease (${holder}):\n${first.log()}`);
  await sleep(4_000);
  await first.kill();

  const second = await startReplica(env);
  try {
    // Until the dead holder's lease expires, a run is skipped (the lease names its holder).
    const finished = async (id: string) => {
      for (const until = Date.now() + 240_000; Date.now() < until; await sleep(500)) {
        const state = String((await call(second.url, 'GET', `/sync/${id}/`, root)).body.state);
        if (state !== 'running' && state !== 'queued') return state;
      }
      return 'timed out';
    };
    let state = '';
    for (const until = Date.now() + 240_000; Date.now() < until; await sleep(500)) {
      const run = await call(second.url, 'POST', '/sync/', root, {});
      expect(run.status).toBe(202);
      state = await finished(String(run.body.id));
      if (state !== 'skipped') break;
    }
    expect(state).toBe('succeeded');
    const [domain] = await graph.read<{ version: string }>(
      "MATCH (d:AttackDomain {name: 'enterprise-attack'}) RETURN d.version AS version",
    );
    expect(domain?.version).toBe('18.1');
    const [counts] = await graph.read<{ techniques: number; distinct: number }>(
      'MATCH (t:Technique) RETURN count(t) AS techniques, count(DISTINCT t.stix_id) AS distinct',
    );
    expect(counts?.techniques).toBe(counts?.distinct);
    expect(counts?.techniques).toBeGreaterThan(600);
    // Applied once: one release record of 18.1, from the replica that took the lease over.
    const [releases] = await graph.read<{ n: number }>(
      "MATCH (r:Release {domain: 'enterprise-attack', version: '18.1'}) WHERE r.source ENDS WITH 'enterprise-attack-18.1.json.gz' RETURN count(r) AS n",
    );
    expect(releases?.n).toBe(1);
  } finally {
    await second.terminate();
  }
});
