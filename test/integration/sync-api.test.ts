import { once } from 'node:events';
import request from 'supertest';
import { ATTACK_COLLECTIONS } from '../../src/shared/config';
import type { Graph } from '../../src/shared/neo4j';
import type { LiveRun, SyncScheduler } from '../../src/sync/scheduler';
import { analyst, superuser, testApp, viewer, type TestApi } from '../support/api';
import { ManualClock } from '../support/clock';
import { fixtureBundle, freshGraph } from '../support/graph';
import { AttackSource } from '../support/sync-sources';

// The service as deployed: Bree runs the sync job in a worker thread at start-up and every
// interval; superusers trigger runs and follow them; everyone reads releases and changelogs. The
// schedule runs on a manual clock: each scheduled run is fired by the test, and awaited by the
// scheduler's `finished` event. Each test starts from an empty graph and a new service.
const ENTERPRISE = ATTACK_COLLECTIONS['enterprise-attack'] as string;
const API = '/api/v1/mitre';
let graph: Graph;
let source: AttackSource;
let api: TestApi;
let clock: ManualClock;
let scheduler: SyncScheduler;

/** The fixture as release `version`, with one technique's description changed in later ones. */
function publish(version: string, modified: string) {
  const b = fixtureBundle();
  const collection = b.objects.find((o) => o.type === 'x-mitre-collection') as Record<
    string,
    unknown
  >;
  collection.x_mitre_version = version;
  collection.modified = modified;
  if (version !== '18.1') {
    const t = b.objects.find((o) => o.type === 'attack-pattern') as Record<string, unknown>;
    t.description = `as of ${version}`;
    t.modified = modified;
  }
  const path = `/enterprise-attack/enterprise-attack-${version}.json`;
  source.files.set(path, Buffer.from(JSON.stringify(b)));
  source.setIndex([
    { domain: 'enterprise-attack', collection: ENTERPRISE, version, path, modified },
  ]);
}

/** Fires the next scheduled timer and waits for the run it starts to end. */
async function scheduledRun(): Promise<LiveRun> {
  const finished = once(scheduler, 'finished') as Promise<[LiveRun]>;
  clock.fireNext();
  return (await finished)[0];
}

const INTERVAL_MS = 10 * 60_000;

const get = async (path: string, token: string) =>
  request(api.app).get(`${API}${path}`).set('Authorization', `Bearer ${token}`);

beforeAll(async () => {
  source = await new AttackSource().start();
});
afterAll(async () => {
  await source.stop();
});
// Each test: an empty graph, the source publishing 18.1, a service whose start-up run is due.
beforeEach(async () => {
  graph = await freshGraph();
  source.faults.clear();
  publish('18.1', '2025-11-13T14:00:00.188Z');
  clock = new ManualClock();
  api = await testApp(
    {
      TTPGRAPH_SYNC_INTERVAL: '10m',
      TTPGRAPH_SYNC_INDEX_URL: `${source.base}/index.json`,
      TTPGRAPH_SYNC_RETRY_BASE_MS: '200',
      TTPGRAPH_FETCH_TIMEOUT_MS: '3000',
    },
    clock,
  );
  scheduler = api.scheduler as SyncScheduler;
});
afterEach(async () => {
  await api.close();
  await graph.close();
});

/** The start-up run, then 18.2 published and applied at the next interval. */
async function syncedTo182(): Promise<void> {
  expect((await scheduledRun()).state).toBe('succeeded');
  publish('18.2', '2025-12-01T00:00:00.000Z');
  expect((await scheduledRun()).state).toBe('succeeded');
}

describe('the sync scheduler and its endpoints', () => {
  it('syncs at start-up in a worker thread, then plans the next run one interval later', async () => {
    const t0 = clock.now();
    expect(clock.pending()).toEqual([t0]);
    const run = await scheduledRun();
    expect(run).toMatchObject({ trigger: 'schedule', state: 'succeeded' });
    expect(run.result?.domains[0]).toMatchObject({ outcome: 'applied', changed: true });
    const s = (await get('/status/', await superuser())).body;
    expect(s.domains[0]).toMatchObject({
      domain: 'enterprise-attack',
      version: '18.1',
      sync_source: 'json',
      release_id: 'enterprise-attack@18.1',
      last_changelog: expect.objectContaining({ additions: 27 }),
      last_error: null,
    });
    expect(Date.parse(s.domains[0].last_success_at)).not.toBeNaN();
    expect(s.sync).toMatchObject({ schedule: '10m' });
    expect(clock.pending()).toEqual([t0 + INTERVAL_MS]);
    const runs = (await get('/sync/', await superuser())).body;
    expect(runs.scheduler.running).toBeUndefined();
    expect(runs.scheduler).toMatchObject({
      enabled: true,
      schedule: '10m',
      consecutive_failures: 0,
      next_run_at: new Date(t0 + INTERVAL_MS).toISOString(),
    });
  });

  it('applies a changed index at the next interval, and nothing runs before it', async () => {
    expect((await scheduledRun()).state).toBe('succeeded');
    publish('18.2', '2025-12-01T00:00:00.000Z');
    const due = clock.pending();
    expect(due).toHaveLength(1);
    const run = await scheduledRun();
    expect(clock.now()).toBe(due[0]);
    expect(run.result?.domains[0]).toMatchObject({
      outcome: 'applied',
      changed: true,
      version: '18.2',
    });
    expect((await get('/status/', await superuser())).body.domains[0].version).toBe('18.2');
    const changes = await get(
      '/releases/enterprise-attack@18.2/changes/?category=patches',
      await viewer(),
    );
    expect(changes.status).toBe(200);
    expect(changes.body.count).toBe(1);
    expect(changes.body.results[0]).toMatchObject({ type: 'attack-pattern', category: 'patches' });
  });

  it('lists releases for every role, newest first', async () => {
    await syncedTo182();
    const r = await get('/releases/', await viewer());
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: { id: string }) => x.id)).toEqual([
      'enterprise-attack@18.2',
      'enterprise-attack@18.1',
    ]);
    expect(r.body.results[0]).toMatchObject({ current: true, previous_version: '18.1' });
    const missing = await get('/releases/enterprise-attack@1.0/', await viewer());
    expect(missing.status).toBe(404);
    expect(missing.type).toBe('application/problem+json');
  });

  it('lets superusers alone start a run, and follows it to its result', async () => {
    const denied = await request(api.app)
      .post(`${API}/sync/`)
      .set('Authorization', `Bearer ${await analyst()}`)
      .send({});
    expect(denied.status).toBe(403);
    expect((await get('/sync/', await analyst())).status).toBe(403);

    await syncedTo182();
    const root = await superuser();
    const finished = once(scheduler, 'finished') as Promise<[LiveRun]>;
    const started = await request(api.app)
      .post(`${API}/sync/`)
      .set('Authorization', `Bearer ${root}`)
      .send({ force: true });
    expect(started.status).toBe(202);
    expect(started.headers.location).toBe(`${API}/sync/${started.body.id}/`);
    expect(started.body).toMatchObject({
      trigger: 'api',
      state: 'running',
      already_running: false,
    });
    // A second request while it runs is answered with the same run.
    const again = await request(api.app)
      .post(`${API}/sync/`)
      .set('Authorization', `Bearer ${root}`)
      .send({});
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: started.body.id, already_running: true });
    const [ended] = await finished;
    expect(ended.id).toBe(started.body.id);

    const done = await get(`/sync/${started.body.id}/`, root);
    expect(done.status).toBe(200);
    // The forced run rewrote the release it already held.
    expect(done.body.result).toMatchObject({ trigger: 'api', state: 'succeeded' });
    expect(done.body.result.domains[0]).toMatchObject({ outcome: 'applied', version: '18.2' });
    const runs = await get('/sync/?limit=100', root);
    expect(runs.body.results.map((r: { id: string }) => r.id)).toContain(started.body.id);
    expect(runs.body.scheduler).toMatchObject({ enabled: true, schedule: '10m' });
    expect(runs.body.scheduler.running).toBeUndefined();
    expect((await get('/sync/nope/', root)).status).toBe(404);
  });

  it('retries a failed run with equal-jitter backoff, shows why, and recovers', async () => {
    await syncedTo182();
    source.faults.set('/index.json', { kind: 'status', status: 503 });
    const root = await superuser();
    // Retry n waits between half and all of base·2^(n-1) (base 200 ms here).
    for (const [failures, ceiling] of [
      [1, 200],
      [2, 400],
      [3, 800],
    ] as const) {
      const run = await scheduledRun();
      expect(run).toMatchObject({ trigger: 'schedule', state: 'failed' });
      expect(run.result?.error).toMatch(/answered HTTP 503/);
      const next = clock.pending()[0] as number;
      expect(next - clock.now()).toBeGreaterThanOrEqual(ceiling / 2);
      expect(next - clock.now()).toBeLessThanOrEqual(ceiling);
      const state = (await get('/sync/', root)).body.scheduler;
      expect(state.consecutive_failures).toBe(failures);
      expect(state.next_run_at).toBe(new Date(next).toISOString());
    }
    const status = (await get('/status/', root)).body;
    expect(status.domains[0].last_error).toMatch(/answered HTTP 503/);
    expect(status.domains[0].version).toBe('18.2');

    source.faults.clear();
    const recovered = await scheduledRun();
    // The source holds what the graph holds: nothing to apply.
    expect(recovered.state).toBe('unchanged');
    expect((await get('/sync/', root)).body.scheduler.consecutive_failures).toBe(0);
    expect(clock.pending()).toEqual([clock.now() + INTERVAL_MS]);
    const after = (await get('/status/', root)).body;
    expect(after.domains[0].last_error).toBeNull();
  });
});
