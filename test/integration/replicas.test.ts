import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ImportService } from '../../src/attack/import-service';
import type { Graph } from '../../src/shared/neo4j';
import { superuser, token } from '../support/api';
import { asFetched, fixtureBundle, freshGraph, silentLogger } from '../support/graph';
import { bulkOf, call, roundRobin, startReplica, type Replica } from '../support/replica';
import { scratchDir } from '../support/scratch';

// Three `ttpgraph serve` processes on one database behind a round-robin balancer behave as one
// service: one of them applies a release, all serve it soon after, and writes through any of them
// are neither lost nor doubled, and read back through another at once.
let graph: Graph;
let replicas: Replica[] = [];
let balancer: { url: string; close(): Promise<void> };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fixture as a later release: a new version, T1059 renamed. */
function nextRelease(): string {
  const bundle = fixtureBundle();
  for (const o of bundle.objects) {
    if (o.type === 'x-mitre-collection') {
      o.x_mitre_version = '18.2';
      o.modified = '2026-11-01T00:00:00.000Z';
    }
    const ids = (o.external_references as Array<{ external_id?: string }> | undefined) ?? [];
    if (o.type === 'attack-pattern' && ids[0]?.external_id === 'T1059') {
      o.name = 'Command and Scripting Interpreter (renamed)';
      o.modified = '2026-11-01T00:00:00.000Z';
    }
  }
  const file = path.join(scratchDir('ttpgraph-replicas-'), 'next.json');
  writeFileSync(file, JSON.stringify(bundle));
  return file;
}

beforeAll(async () => {
  graph = await freshGraph();
  await new ImportService(graph, silentLogger).importBytes(asFetched(fixtureBundle(), 'fixture'));
  const env = {
    TTPGRAPH_IMPORT_URLS: nextRelease(),
    TTPGRAPH_SYNC_INTERVAL: '1d',
    TTPGRAPH_SYNC_ON_START: 'false',
    TTPGRAPH_CACHE_POLL_MS: '500',
  };
  replicas = await Promise.all([startReplica(env), startReplica(env), startReplica(env)]);
  balancer = await roundRobin(replicas.map((r) => r.url));
});
afterAll(async () => {
  await balancer?.close();
  const codes = await Promise.all(replicas.map((r) => r.terminate()));
  await graph.close();
  expect(codes).toEqual([0, 0, 0]);
});

const techniqueName = async (base: string) =>
  (
    await call(
      base,
      'GET',
      '/techniques/T1059/',
      await token({ tenant: 'acme', roles: ['viewer'] }),
    )
  ).body.name;

it('applies a release once when all three are asked at once, and every replica serves it', async () => {
  for (const r of replicas)
    expect(await techniqueName(r.url)).toBe('Command and Scripting Interpreter');
  const root = await superuser();
  const runs = await Promise.all(replicas.map((r) => call(r.url, 'POST', '/sync/', root, {})));
  expect(runs.map((r) => r.status)).toEqual([202, 202, 202]);
  const states = await Promise.all(
    runs.map(async (run, i) => {
      for (const until = Date.now() + 120_000; Date.now() < until; await sleep(250)) {
        const r = await call(
          (replicas[i] as Replica).url,
          'GET',
          `/sync/${String(run.body.id)}/`,
          root,
        );
        const state = String(r.body.state);
        if (state !== 'running' && state !== 'queued') return state;
      }
      return 'timed out';
    }),
  );
  expect(states.filter((s) => s === 'succeeded')).toHaveLength(1);
  const others = await Promise.all(
    runs.map(
      async (run, i) =>
        (await call((replicas[i] as Replica).url, 'GET', `/sync/${String(run.body.id)}/`, root))
          .body,
    ),
  );
  expect({ states, others }).toEqual({
    states: expect.arrayContaining(['succeeded']),
    others: others.map((o) =>
      ['succeeded', 'skipped', 'unchanged'].includes(String(o.state)) ? o : {},
    ),
  });
  const [releases] = await graph.read<{ n: number }>(
    "MATCH (r:Release {domain: 'enterprise-attack', version: '18.2'}) RETURN count(r) AS n",
  );
  expect(releases?.n).toBe(1);
  // Each replica's cached answers follow the data version within its poll interval.
  const appliedAt = Date.now();
  for (const r of replicas) {
    while ((await techniqueName(r.url)) !== 'Command and Scripting Interpreter (renamed)') {
      expect(Date.now() - appliedAt).toBeLessThan(10_000);
      await sleep(100);
    }
  }
});

it('loses and doubles no mapping under concurrent bulks through the balancer', async () => {
  const bearer = await token({ sub: 'alice', tenant: 'acme', roles: ['analyst'] });
  // Nine distinct bulks, three per replica, and one bulk sent three times at once.
  const distinct = Array.from({ length: 9 }, (_, i) =>
    call(balancer.url, 'POST', '/alert-mappings/bulk/', bearer, bulkOf(`R${i}`, 1_000)),
  );
  const repeated = Array.from({ length: 3 }, () =>
    call(balancer.url, 'POST', '/alert-mappings/bulk/', bearer, bulkOf('SAME', 1_000)),
  );
  const answers = await Promise.all([...distinct, ...repeated]);
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
  const [row] = await graph.read<{ mappings: number; alerts: number; same: number }>(
    `MATCH (a:Alert {tenant: 'acme'})-[:HAS_MAPPING]->(m:Mapping)
     WHERE a.id STARTS WITH 'R' OR a.id STARTS WITH 'SAME-'
     RETURN count(m) AS mappings, count(DISTINCT a) AS alerts,
            count(CASE WHEN a.id STARTS WITH 'SAME-' THEN m END) AS same`,
  );
  expect(row).toEqual({ mappings: 10_000, alerts: 10_000, same: 1_000 });
  // What the clients were told matches: every distinct item created once, the repeated bulk's
  // 1,000 created once across its three answers.
  const created = (a: { body: Record<string, unknown> }) => a.body.created as number;
  expect(answers.slice(0, 9).map(created)).toEqual(Array(9).fill(1_000));
  expect(
    answers
      .slice(9)
      .map(created)
      .reduce((x, y) => x + y, 0),
  ).toBe(1_000);
});

it('reads a mapping written through one replica through the next one at once', async () => {
  const bearer = await token({ sub: 'alice', tenant: 'acme', roles: ['analyst'] });
  for (let i = 0; i < 30; i++) {
    const writer = replicas[i % 3] as Replica;
    const reader = replicas[(i + 1) % 3] as Replica;
    const made = await call(writer.url, 'POST', '/alert-mappings/', bearer, {
      alert_id: `RAW-${i}`,
      technique: 'T1059.001',
    });
    expect(made.status).toBe(201);
    const read = await call(reader.url, 'GET', `/alert-mappings/${String(made.body.id)}/`, bearer);
    expect(read.status).toBe(200);
    const listed = await call(reader.url, 'GET', `/alert-mappings/?alert_id=RAW-${i}`, bearer);
    expect(listed.body.count).toBe(1);
  }
});
