import request from 'supertest';
import { ATTACK_COLLECTIONS } from '../../src/shared/config';
import type { Graph } from '../../src/shared/neo4j';
import { analyst, superuser, testApp, viewer, type TestApi } from '../support/api';
import { fixtureBundle, freshGraph } from '../support/graph';
import { AttackSource } from '../support/sync-sources';

// The service as deployed: Bree runs the sync job in a worker thread at start-up and every
// interval; superusers trigger runs and follow them; everyone reads releases and changelogs.
const ENTERPRISE = ATTACK_COLLECTIONS['enterprise-attack'] as string;
const API = '/api/v1/mitre';
let graph: Graph;
let source: AttackSource;
let api: TestApi;

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

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const get = async (path: string, token: string) =>
  request(api.app).get(`${API}${path}`).set('Authorization', `Bearer ${token}`);

/** The version the graph holds once a sync run has recorded it. */
async function version(): Promise<string | undefined> {
  const r = await get('/status/', await superuser());
  const d = r.body.domains?.[0];
  return d?.last_success_at && d.last_success_at >= d.last_change_at ? d.version : undefined;
}

beforeAll(async () => {
  graph = await freshGraph();
  source = await new AttackSource().start();
  publish('18.1', '2025-11-13T14:00:00.188Z');
  api = await testApp({
    TTPGRAPH_SYNC_INTERVAL: '3s',
    TTPGRAPH_SYNC_INDEX_URL: `${source.base}/index.json`,
    TTPGRAPH_SYNC_RETRY_BASE_MS: '200',
    TTPGRAPH_FETCH_TIMEOUT_MS: '3000',
  });
});
afterAll(async () => {
  await api?.close();
  await source.stop();
  await graph.close();
});

describe('the sync scheduler and its endpoints', () => {
  it('syncs at start-up in a worker thread', async () => {
    expect(
      await until('the first sync', async () => ((await version()) === '18.1' ? true : undefined)),
    ).toBe(true);
    const s = (await get('/status/', await superuser())).body;
    expect(s.domains[0]).toMatchObject({
      domain: 'enterprise-attack',
      sync_source: 'json',
      release_id: 'enterprise-attack@18.1',
      last_changelog: expect.objectContaining({ additions: 27 }),
    });
    expect(Date.parse(s.domains[0].last_success_at)).not.toBeNaN();
    expect(s.sync).toMatchObject({ schedule: '3s' });
    expect(Date.parse(s.sync.next_run_at)).toBeGreaterThan(Date.now() - 1_000);
  });

  it('applies a changed index within one interval', async () => {
    publish('18.2', '2025-12-01T00:00:00.000Z');
    const started = Date.now();
    await until('18.2', async () => ((await version()) === '18.2' ? true : undefined), 20_000);
    expect(Date.now() - started).toBeLessThan(3_000 + 10_000);
    const changes = await get(
      '/releases/enterprise-attack@18.2/changes/?category=patches',
      await viewer(),
    );
    expect(changes.status).toBe(200);
    expect(changes.body.count).toBe(1);
    expect(changes.body.results[0]).toMatchObject({ type: 'attack-pattern', category: 'patches' });
  });

  it('lists releases for every role, newest first', async () => {
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

    const root = await superuser();
    // A scheduled run may be going: then that run is answered.
    const started = await until('a started run', async () => {
      const r = await request(api.app)
        .post(`${API}/sync/`)
        .set('Authorization', `Bearer ${root}`)
        .send({ force: true });
      expect(r.status).toBe(202);
      return r.body.already_running ? undefined : r;
    });
    expect(started.headers.location).toBe(`${API}/sync/${started.body.id}/`);
    expect(started.body).toMatchObject({ trigger: 'api', state: 'running' });
    const done = await until('the run to end', async () => {
      const r = await get(`/sync/${started.body.id}/`, root);
      expect(r.status).toBe(200);
      return r.body.result ? r.body : undefined;
    });
    expect(done.result).toMatchObject({ trigger: 'api', state: 'succeeded' });
    expect(done.result.domains[0]).toMatchObject({ outcome: 'applied', changed: true });
    const runs = await get('/sync/?limit=100', root);
    expect(runs.body.results.map((r: { id: string }) => r.id)).toContain(started.body.id);
    expect(runs.body.scheduler).toMatchObject({ enabled: true, schedule: '3s' });
    expect((await get('/sync/nope/', root)).status).toBe(404);
  });

  it('retries a failed run with backoff, shows why, and recovers', async () => {
    source.faults.set('/index.json', { kind: 'status', status: 503 });
    const root = await superuser();
    const failing = await until('a failure', async () => {
      const r = await get('/sync/', root);
      return r.body.scheduler.consecutive_failures >= 2 ? r.body.scheduler : undefined;
    });
    expect(failing.last_run.result.error).toMatch(/answered HTTP 503/);
    // The request of the run started through the API stayed with that run.
    expect(failing.last_run.result.trigger).toBe('schedule');
    const status = (await get('/status/', root)).body;
    expect(status.domains[0].last_error).toMatch(/answered HTTP 503/);
    expect(status.domains[0].version).toBe('18.2');
    source.faults.clear();
    await until('recovery', async () => {
      const r = await get('/sync/', root);
      return r.body.scheduler.consecutive_failures === 0 ? true : undefined;
    });
    const after = (await get('/status/', root)).body;
    expect(after.domains[0].last_error).toBeNull();
  });
});
