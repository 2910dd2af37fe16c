import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ImportService } from '../../src/attack/import-service';
import { createAuthorizer } from '../../src/auth/authorization';
import { MappingService } from '../../src/mappings/mapping-service';
import { ATTACK_COLLECTIONS, loadConfig } from '../../src/shared/config';
import type { Graph } from '../../src/shared/neo4j';
import { SyncService, type SyncOptions } from '../../src/sync/sync-service';
import { asFetched, fixtureBundle, freshGraph, silentLogger } from '../support/graph';
import { AttackSource, type TaxiiCollection } from '../support/sync-sources';
import { scratchDir } from '../support/scratch';

// Syncing from a TAXII 2.1 server (the small fixture as a collection), and bundles read from a
// directory, with the TAXII-specific faults: a looping next token, a page failing midway, 429.
const ENTERPRISE = ATTACK_COLLECTIONS['enterprise-attack'] as string;
let graph: Graph;
let source: AttackSource;
let importer: ImportService;
let collection: TaxiiCollection;

const config = (env: Record<string, string>) =>
  loadConfig({
    ...process.env,
    TTPGRAPH_SYNC_SOURCE: 'taxii',
    TTPGRAPH_TAXII_URL: `${source.base}/api/v21/`,
    TTPGRAPH_TAXII_PAGE_SIZE: '10',
    TTPGRAPH_FETCH_TIMEOUT_MS: '3000',
    ...env,
  });
const sync = (opts: Partial<SyncOptions> = {}, env: Record<string, string> = {}) =>
  new SyncService(graph, importer, config(env), silentLogger).run({ trigger: 'schedule', ...opts });

async function held() {
  const [row] = await graph.read<{ nodes: number; hash: string; mappings: number }>(
    `MATCH (n:AttackObject) WITH count(n) AS nodes, collect(n.hash) AS hashes
     RETURN nodes, reduce(h = '', x IN hashes | h + x) AS hash, COUNT { (:Mapping) } AS mappings`,
  );
  return row;
}

/** The fixture as a TAXII collection, each object added a millisecond after the one before. */
const fixtureObjects = () =>
  fixtureBundle().objects.map((object, i) => ({
    object,
    dateAdded: new Date(Date.UTC(2025, 10, 13, 14, 0, 0, i)).toISOString(),
  }));

beforeAll(async () => {
  graph = await freshGraph();
  source = await new AttackSource().start();
  const mappings = new MappingService(graph, await createAuthorizer());
  importer = new ImportService(graph, silentLogger, 2_000, () => mappings.applyRelease());
  collection = { id: ENTERPRISE, title: 'Enterprise ATT&CK', objects: [] };
  source.collections.set(ENTERPRISE, collection);
});

// Each test starts from an empty graph and the collection as published: any one runs alone.
beforeEach(async () => {
  await graph.write('MATCH (n) DETACH DELETE n');
  collection.objects = fixtureObjects();
  collection.loopNext = undefined;
  collection.failFromPage = undefined;
  source.faults.clear();
  source.requests.length = 0;
});

/** The collection synced once, and a mapping on it: where the later tests start. */
async function syncedWithMapping(): Promise<void> {
  expect((await sync()).state).toBe('succeeded');
  await new MappingService(graph, await createAuthorizer()).create(
    { tenant: 'acme', userId: 'u', groups: [], superuser: false, entityScope: null },
    'alert',
    [{ alert_id: 'A-1', technique: 'T1059' }],
  );
}
afterAll(async () => {
  await source.stop();
  await graph.close();
});

describe('sync from TAXII 2.1', () => {
  it('resolves the API root by discovery and reads the collection page by page', async () => {
    const run = await sync({}, { TTPGRAPH_TAXII_URL: `${source.base}/taxii2/` });
    expect(run.error).toBeNull();
    expect(run).toMatchObject({ state: 'succeeded', source: 'taxii', requests: 6 });
    expect(run.domains[0]).toMatchObject({ domain: 'enterprise-attack', version: '18.1' });
    expect(run.reports[0]?.totals.added).toBe(43);
    // Every request asked for TAXII 2.1 (the server answers 406 otherwise).
    expect(
      source.requests.every((r) => r.headers.accept === 'application/taxii+json;version=2.1'),
    ).toBe(true);
    const pages = source.requests.filter((r) => r.path.includes('/objects/')).map((r) => r.path);
    expect(pages[0]).toMatch(/limit=10$/);
    expect(pages.slice(1).map((p) => new URL(p, source.base).searchParams.get('next'))).toEqual([
      '10',
      '20',
      '30',
      '40',
    ]);
  });

  it('polls an unchanged collection with one manifest request', async () => {
    await syncedWithMapping();
    const before = await held();
    const asked = source.requests.length;
    const run = await sync();
    expect(run).toMatchObject({ state: 'unchanged', requests: 1 });
    const [manifest] = source.requests.slice(asked);
    expect(manifest?.path).toMatch(
      /\/manifest\/\?limit=1&added_after=2025-11-13T14%3A00%3A00.042Z$/,
    );
    expect(await held()).toEqual(before);
  });

  it.each([
    [
      'a next token that loops',
      (c: TaxiiCollection) => (c.loopNext = true),
      {},
      /repeats the next token "10"/,
    ],
    [
      'a page that fails midway',
      (c: TaxiiCollection) => (c.failFromPage = 2),
      {},
      /answered HTTP 500/,
    ],
    [
      'a spent request budget',
      () => undefined,
      { TTPGRAPH_TAXII_MAX_REQUESTS: '3' },
      /request budget of 3/,
    ],
    [
      'a long Retry-After',
      () =>
        source.faults.set(`/api/v21/collections/${ENTERPRISE}/objects/`, {
          kind: 'status',
          status: 429,
          retryAfter: '3600',
        }),
      {},
      /HTTP 429 \(retry after 3600 s\)/,
    ],
  ])('keeps the graph on %s', async (_name, breakIt, env, message) => {
    await syncedWithMapping();
    const before = await held();
    breakIt(collection);
    const run = await sync({ force: true }, env);
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(message);
    expect(await held()).toEqual(before);
  });

  it('waits out a short Retry-After and applies what was added since', async () => {
    await syncedWithMapping();
    const changed = structuredClone(
      collection.objects.find((o) => o.object.type === 'attack-pattern'),
    ) as (typeof collection.objects)[number];
    changed.object.description = 'changed upstream';
    changed.object.modified = '2025-12-01T00:00:00.000Z';
    changed.object.x_mitre_version = '9.9';
    changed.dateAdded = '2025-12-01T00:00:00.000Z';
    collection.objects = [
      ...collection.objects.filter((o) => o.object.id !== changed.object.id),
      changed,
    ];
    source.faults.set(`/api/v21/collections/${ENTERPRISE}/manifest/`, {
      kind: 'status',
      status: 429,
      retryAfter: '1',
      times: 1,
    });
    const run = await sync();
    expect(run.error).toBeNull();
    expect(run.state).toBe('succeeded');
    expect(run.domains[0]?.totals).toMatchObject({ major_version_changes: 1, additions: 0 });
    const [row] = await graph.read<{ d: string }>(
      `MATCH (t:AttackObject {stix_id: $id}) RETURN t.description AS d`,
      { id: changed.object.id },
    );
    expect(row?.d).toBe('changed upstream');
    expect((await held())?.mappings).toBe(1);
  });
});

describe('sync from a directory of bundles (air-gapped sites)', () => {
  it('applies the valid objects of a lenient bundle and keeps the invalid ones as they were', async () => {
    await importer.importBytes(asFetched(fixtureBundle()));
    const dir = scratchDir('ttpgraph-bundles-');
    const b = fixtureBundle();
    const victim = b.objects.find((o) => o.type === 'intrusion-set') as Record<string, unknown>;
    victim.modified = 'not a date';
    writeFileSync(path.join(dir, 'enterprise.json'), JSON.stringify(b));
    const run = await sync({ urls: [dir] });
    expect(run.state).toBe('succeeded');
    // The object and the relationships that name it are left out, and kept as the graph had them.
    const issues = run.reports[0]?.issues ?? [];
    expect(issues).toContainEqual(expect.objectContaining({ object: victim.id, path: 'modified' }));
    expect(run.reports[0]?.skipped).toBe(
      new Set(issues.filter((i) => i.severity === 'error').map((i) => i.object)).size,
    );
    expect(run.reports[0]?.totals.removed).toBe(0);
    const [row] = await graph.read<{ n: number }>(
      `MATCH (g:AttackObject {stix_id: $id}) RETURN count(g) AS n`,
      {
        id: victim.id,
      },
    );
    expect(row?.n).toBe(1);
    // The directory did not change: the next poll reads nothing.
    const again = await sync({ urls: [dir] });
    expect(again).toMatchObject({ state: 'unchanged', requests: 0 });
  });
});
