import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ImportService } from '../../src/attack/import-service';
import { StatusService } from '../../src/attack/status-service';
import { createAuthorizer } from '../../src/auth/authorization';
import { MappingService } from '../../src/mappings/mapping-service';
import { ATTACK_COLLECTIONS, loadConfig } from '../../src/shared/config';
import type { Graph } from '../../src/shared/neo4j';
import { ReleaseService } from '../../src/sync/release-service';
import { SyncService, type SyncOptions } from '../../src/sync/sync-service';
import { ATTACK_DATA, bundleBytes, freshGraph, holdLease, silentLogger } from '../support/graph';
import { AttackSource, type Fault } from '../support/sync-sources';

// Syncing from an index.json over HTTP with real MITRE releases (17.1 → 18.0 → 18.1), and every
// way the source can fail: the previous release and every mapping must stay as they were.
const ENTERPRISE = ATTACK_COLLECTIONS['enterprise-attack'] as string;
const bundle = (v: string) =>
  readFileSync(path.join(ATTACK_DATA, `enterprise-attack-${v}.json.gz`));
const bundlePath = (v: string) => `/enterprise-attack/enterprise-attack-${v}.json`;
const MODIFIED: Record<string, string> = {
  '17.1': '2025-05-06T14:00:00.188Z',
  '18.0': '2025-10-28T14:00:00.188Z',
  '18.1': '2025-11-13T14:00:00.188Z',
};

let graph: Graph;
let source: AttackSource;
let mappings: MappingService;
let importer: ImportService;
/** The write statements run since the test emptied it. */
const writes: string[] = [];

function syncService(env: Record<string, string> = {}) {
  const config = loadConfig({
    ...process.env,
    TTPGRAPH_SYNC_INDEX_URL: `${source.base}/index.json`,
    TTPGRAPH_FETCH_TIMEOUT_MS: '3000',
    ...env,
  });
  return new SyncService(graph, importer, config, silentLogger);
}
const sync = (opts: Partial<SyncOptions> = {}, env: Record<string, string> = {}) =>
  syncService(env).run({ trigger: 'cli', ...opts });

function listVersions(...versions: string[]) {
  source.setIndex(
    versions.map((v) => ({
      domain: 'enterprise-attack',
      collection: ENTERPRISE,
      version: v,
      path: bundlePath(v),
      modified: MODIFIED[v] as string,
    })),
  );
}

async function snapshot() {
  const [row] = await graph.read<{
    version: string;
    lastImport: string;
    nodes: number;
    mappings: number;
    lastError: string | null;
  }>(
    `MATCH (d:AttackDomain {name: 'enterprise-attack'})
     RETURN d.version AS version, toString(d.last_import_at) AS lastImport,
            COUNT { (:AttackObject) } AS nodes, COUNT { (:Mapping) } AS mappings,
            d.last_error AS lastError`,
  );
  return row as NonNullable<typeof row>;
}

beforeAll(async () => {
  graph = await freshGraph((name, mode) => {
    if (mode === 'WRITE') writes.push(name);
  });
  source = await new AttackSource().start();
  for (const v of ['17.1', '18.0', '18.1']) source.files.set(bundlePath(v), bundle(v));
  mappings = new MappingService(graph, await createAuthorizer());
  importer = new ImportService(graph, silentLogger, 2_000, () => mappings.applyRelease());
});
afterAll(async () => {
  await source.stop();
  await graph.close();
});

beforeEach(() => {
  source.faults.clear();
  for (const v of ['17.1', '18.0', '18.1']) source.files.set(bundlePath(v), bundle(v));
});

/**
 * The graph at a release, synced from an index that lists it (its validators saved), whatever ran
 * before: cheap when the graph holds it already (tests in file order), an import when not (a test
 * run alone or in another order).
 */
async function at(version: string): Promise<void> {
  if ((await snapshot())?.version !== version) {
    await graph.write('MATCH (n) DETACH DELETE n');
    await importer.importBytes(bundleBytes(bundle(version), bundlePath(version)));
  }
  listVersions(version);
  expect((await sync()).state).not.toBe('failed');
}

describe('sync from index.json', () => {
  it('applies the newest release the index lists, with its changelog', async () => {
    await graph.write('MATCH (n) DETACH DELETE n');
    listVersions('17.1');
    const run = await sync();
    expect(run).toMatchObject({ state: 'succeeded', requests: 2, error: null });
    expect(run.domains).toEqual([
      expect.objectContaining({
        domain: 'enterprise-attack',
        outcome: 'applied',
        version: '17.1',
        releaseId: 'enterprise-attack@17.1',
      }),
    ]);
    const releases = new ReleaseService(graph);
    const release = await releases.get('enterprise-attack@17.1');
    expect(release.current).toBe(true);
    const additions = release.changelog?.totals.additions as number;
    expect(additions).toBeGreaterThan(1000);
    const page = await releases.changes('enterprise-attack@17.1', {
      category: 'additions',
      type: 'attack-pattern',
      limit: 5,
      offset: 0,
    });
    expect(page.count).toBe(release.changelog?.byType['attack-pattern']?.additions);
    expect(page.results[0]).toMatchObject({ category: 'additions', type: 'attack-pattern' });
    await expect(
      releases.changes('enterprise-attack@0.0', {
        category: null,
        type: null,
        limit: 1,
        offset: 0,
      }),
    ).rejects.toThrow(/no release/);
  });

  it('polls an unchanged index with one conditional request and writes nothing', async () => {
    await at('17.1');
    const before = await snapshot();
    const asked = source.requests.length;
    writes.length = 0;
    const run = await sync({ trigger: 'schedule' });
    expect(run).toMatchObject({ state: 'unchanged', requests: 1 });
    expect(run.recorded).toBeUndefined();
    expect(writes).toEqual([]);
    expect(source.requests.slice(asked)).toEqual([
      expect.objectContaining({ path: '/index.json', status: 304 }),
    ]);
    expect(source.requests[asked]?.headers['if-none-match']).toMatch(/^"[0-9a-f]{40}"$/);
    expect(await snapshot()).toEqual(before);
  });

  it('reads a release fetched again and found held as unchanged, as when another replica applied it after this run checked', async () => {
    await at('17.1');
    const before = await snapshot();
    writes.length = 0;
    // Not conditional: the run fetches as one would whose check came before the other's release.
    const run = await sync({ urls: [`${source.base}${bundlePath('17.1')}`], conditional: false });
    expect(run).toMatchObject({ state: 'unchanged', error: null });
    expect(run.domains).toEqual([
      expect.objectContaining({ outcome: 'applied', version: '17.1', changed: false }),
    ]);
    expect(run.reports).toEqual([expect.objectContaining({ sameBundle: true, changed: false })]);
    expect(writes.filter((w) => w.startsWith('attack/') && w !== 'attack/record-import')).toEqual(
      [],
    );
    const after = await snapshot();
    expect({ ...after, lastImport: null }).toEqual({ ...before, lastImport: null });
  });

  it('records one quiet poll per heartbeat, so status shows that polling goes on', async () => {
    await at('17.1');
    writes.length = 0;
    const beat = await sync({ trigger: 'schedule' }, { TTPGRAPH_SYNC_HEARTBEAT_MS: '0' });
    expect(beat).toMatchObject({ state: 'unchanged', recorded: true });
    expect(writes).toEqual(['sync/record-run']);
    const [d] = await graph.read<{ at: string }>(
      `MATCH (d:AttackDomain {name: 'enterprise-attack'}) RETURN toString(d.last_attempt_at) AS at`,
    );
    expect(Date.parse(d!.at)).toBeGreaterThanOrEqual(Date.parse(beat.started_at));
  });

  it("rolls the scheduler's recorded next run forward by its interval (quiet polls do not write it)", async () => {
    const recorded = Date.now() - 25_000;
    await graph.write(
      `MERGE (s:SyncSchedule {name: 'sync-mitre'})
       SET s.next_run_at = datetime($at), s.interval_ms = 10000, s.schedule = '10s'`,
      { at: new Date(recorded).toISOString() },
    );
    const { sync: state } = await new StatusService(graph).status();
    expect(Date.parse(state.nextRunAt as string)).toBe(recorded + 30_000);
    expect(state.schedule).toBe('10s');
  });

  it('keeps the release and every mapping through each source failure', async () => {
    await at('17.1');
    await mappings.create(
      { tenant: 'acme', userId: 'alice', groups: [], superuser: false, entityScope: null },
      'alert',
      [
        { alert_id: 'A-1', technique: 'T1059.001' },
        { alert_id: 'A-2', technique: 'T1566', incident_id: 'I-1' },
      ],
    );
    listVersions('17.1', '18.0');
    const gz = bundle('18.0');
    const broken = JSON.parse(gunzipSync(gz).toString('utf8'));
    broken.objects.find((o: { type: string }) => o.type === 'attack-pattern').modified =
      'yesterday';
    const cases: Array<
      [string, string, Fault | null, RegExp, Partial<SyncOptions>, Record<string, string>]
    > = [
      [
        'unreachable',
        '',
        null,
        /ECONNREFUSED|cannot fetch/,
        {},
        { TTPGRAPH_SYNC_INDEX_URL: 'http://127.0.0.1:1/index.json' },
      ],
      ['a timeout', '/index.json', { kind: 'hang' }, /no answer within 3000 ms/, {}, {}],
      ['an index 500', '/index.json', { kind: 'status', status: 500 }, /answered HTTP 500/, {}, {}],
      [
        'a bundle 404',
        bundlePath('18.0'),
        { kind: 'status', status: 404 },
        /answered HTTP 404/,
        {},
        {},
      ],
      [
        'a 429',
        bundlePath('18.0'),
        { kind: 'status', status: 429, retryAfter: '120' },
        /HTTP 429 \(retry after 120 s\)/,
        {},
        {},
      ],
      ['a body cut short', bundlePath('18.0'), { kind: 'cut' }, /cut short|broke off/, {}, {}],
      [
        'a truncated gzip',
        bundlePath('18.0'),
        { kind: 'body', body: gz.subarray(0, 4096) },
        /gzip/,
        {},
        {},
      ],
      [
        'invalid JSON',
        bundlePath('18.0'),
        { kind: 'body', body: Buffer.from('{"type": "bundle",') },
        /not valid JSON/,
        {},
        {},
      ],
      [
        'an invalid index',
        '/index.json',
        { kind: 'body', body: Buffer.from('{"collections": 3}') },
        /not an ATT&CK index/,
        {},
        {},
      ],
      [
        'an invalid object (strict)',
        bundlePath('18.0'),
        { kind: 'body', body: Buffer.from(JSON.stringify(broken)) },
        /modified/,
        { strict: true },
        {},
      ],
    ];
    const before = await snapshot();
    for (const [name, where, fault, message, opts, env] of cases) {
      source.faults.clear();
      if (fault) source.faults.set(where, fault);
      const run = await sync(opts, env);
      expect({ name, state: run.state }).toEqual({ name, state: 'failed' });
      expect(run.error).toMatch(message);
      if (name === 'a 429') expect(run.retry_after_ms).toBe(120_000);
      const now = await snapshot();
      expect({ name, ...now, lastError: null }).toEqual({ name, ...before, lastError: null });
      expect(now.lastError).toMatch(message);
    }
    source.faults.clear();
  });

  it('skips while another holder has the lease, and goes ahead once that lease expires', async () => {
    await at('17.1');
    listVersions('17.1', '18.0');
    // Another instance takes the lease and "crashes": it never renews nor releases it.
    const crashed = await holdLease(graph, 'crashed-instance');
    const skipped = await sync();
    expect(skipped.state).toBe('skipped');
    expect(skipped.error).toMatch(/another sync holds the lease \(crashed-instance/);
    expect((await snapshot()).version).toBe('17.1');
    // Its minute passes.
    await crashed.expire();

    const r180 = await sync();
    expect(r180).toMatchObject({ state: 'succeeded' });
    expect(r180.domains[0]).toMatchObject({ version: '18.0', releaseId: 'enterprise-attack@18.0' });
    const totals = r180.domains[0]?.totals as Record<
      'additions' | 'deletions' | 'revocations' | 'patches',
      number
    >;
    expect(totals.additions).toBeGreaterThan(0);
    expect(totals.deletions + totals.revocations + totals.patches).toBeGreaterThan(0);
    expect((await snapshot()).lastError).toBeNull();
  });

  it('moves on to 18.1 and keeps every mapping', async () => {
    await at('18.0');
    await mappings.create(
      { tenant: 'acme', userId: 'alice', groups: [], superuser: false, entityScope: null },
      'alert',
      [
        { alert_id: 'A-1', technique: 'T1059.001' },
        { alert_id: 'A-2', technique: 'T1566', incident_id: 'I-1' },
      ],
    );
    listVersions('17.1', '18.0', '18.1');
    const r181 = await sync();
    expect(r181.domains[0]).toMatchObject({ outcome: 'applied', version: '18.1' });
    const release = await new ReleaseService(graph).get('enterprise-attack@18.1');
    expect(release).toMatchObject({ previous_version: '18.0', current: true });
    const [row] = await graph.read<{ techniques: string[] }>(
      `MATCH (m:Mapping {tenant: 'acme'})-[:MAPS_TO]->(t:Technique)
       RETURN collect(t.attack_id) AS techniques`,
    );
    expect(row?.techniques.sort()).toEqual(['T1059.001', 'T1566']);
  });

  it('never goes back when the source lists only an older release; an operator can, on purpose', async () => {
    await at('18.1');
    const before = await snapshot();
    expect(before.version).toBe('18.1');
    listVersions('17.1', '18.0');
    const refused = await sync();
    expect(refused.state).toBe('succeeded');
    expect(refused.domains).toEqual([
      expect.objectContaining({
        domain: 'enterprise-attack',
        outcome: 'refused',
        error: expect.stringMatching(/holds 18\.1: 18\.0 is older/),
      }),
    ]);
    expect(await snapshot()).toEqual(before);
    // The refusal is remembered: the next poll is one conditional request, nothing applied.
    const again = await sync();
    expect(again.state).toBe('unchanged');
    expect(again.requests).toBe(1);
    // An explicit import of the older bundle is refused too, unless it names the version.
    const service = syncService();
    const url = `${source.base}${bundlePath('18.0')}`;
    await expect(
      service.runOrThrow({ trigger: 'cli', urls: [url], force: true, conditional: false }),
    ).rejects.toThrow(/18\.0 is older/);
    const back = await service.runOrThrow({
      trigger: 'cli',
      urls: [url],
      force: true,
      conditional: false,
      downgradeTo: '18.0',
    });
    expect(back.domains[0]).toMatchObject({ outcome: 'applied', version: '18.0' });
    expect((await snapshot()).version).toBe('18.0');
  });
});
