import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { loadConfig } from '../../src/shared/config';
import { loadQueries } from '../../src/shared/cypher';
import { createDriver, type Graph } from '../../src/shared/neo4j';
import { fixtureApp, superuser, type TestApi, token } from '../support/api';
import { asFetched, fixtureBundle } from '../support/graph';

let graph: Graph;
let api: TestApi;

beforeAll(async () => {
  ({ graph, api } = await fixtureApp());
});
afterAll(async () => {
  await api.close();
  await graph.close();
});

type Who = 'alice' | 'bob' | 'ada' | 'victor' | 'gina' | 'root';
type Method = 'get' | 'post' | 'patch' | 'delete';

/**
 * A tenant of its own for each test, with its users: alice and bob (analysts), ada (admin), victor
 * (viewer); gina is an admin of another tenant, root a superuser. A test then needs no other
 * test's data, and its counts are exact.
 */
function tenant() {
  const id = `t-${randomUUID().slice(0, 8)}`;
  const roles: Record<Exclude<Who, 'root'>, [string, string]> = {
    alice: [id, 'analyst'],
    bob: [id, 'analyst'],
    ada: [id, 'admin'],
    victor: [id, 'viewer'],
    gina: [`${id}-other`, 'admin'],
  };
  const bearer = (user: Who) => {
    if (user === 'root') return superuser();
    const [t, role] = roles[user];
    return token({ sub: user, tenant: t, roles: [role] });
  };
  return {
    id,
    async as(user: Who, method: Method, path: string, body?: unknown) {
      const req = request(api.app)
        [method](`/api/v1/mitre${path}`)
        .set('Authorization', `Bearer ${await bearer(user)}`);
      return body === undefined ? req : req.send(body as object);
    },
  };
}

/** An alert mapping made by alice in the tenant, as the change and delete tests start from. */
async function aliceMapping(t: ReturnType<typeof tenant>, alertId = 'A-1') {
  const r = await t.as('alice', 'post', '/alert-mappings/', {
    alert_id: alertId,
    technique: 'T1059.001',
    tactic: 'execution',
    source: 'rule',
    confidence: 80,
  });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

describe('creating mappings', () => {
  it('maps an alert to a technique and tactic, once', async () => {
    const { as } = tenant();
    const r = await as('alice', 'post', '/alert-mappings/', {
      alert_id: 'A-1',
      incident_id: 'I-1',
      technique: 'T1059.001',
      tactic: 'execution',
      source: 'rule',
      confidence: 80,
      procedure: 'powershell -enc ...',
      occurred_at: '2026-11-01T10:00:00Z',
      title: 'Encoded PowerShell',
      severity: 'high',
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      kind: 'alert',
      alert_id: 'A-1',
      incident_id: 'I-1',
      technique: { id: 'T1059.001', name: 'PowerShell' },
      tactic: 'execution',
      source: 'rule',
      confidence: 80,
      created_by: 'alice',
      attack_version: '18.1',
      stale: false,
      original_technique_id: null,
      warnings: [],
    });
    const again = await as('bob', 'post', '/alert-mappings/', {
      alert_id: 'A-1',
      technique: 'attack-pattern--970a3432-3237-47ad-bcca-7d8cbb217736',
      tactic: 'execution',
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(r.body.id);
  });

  it.each([
    ['an unknown technique', { technique: 'T9999' }, /unknown technique T9999/],
    ['a deprecated technique', { technique: 'T1064' }, /T1064 is deprecated/],
    [
      'a tactic the technique lacks',
      { technique: 'T1059.001', tactic: 'persistence' },
      /persistence is not a tactic of T1059.001/,
    ],
  ])('refuses %s with 422', async (_name, body, detail) => {
    const { as } = tenant();
    const r = await as('alice', 'post', '/alert-mappings/', { alert_id: 'A-2', ...body });
    expect(r.status).toBe(422);
    expect(r.type).toBe('application/problem+json');
    expect(r.body.detail).toMatch(detail);
  });

  it('maps a deprecated technique when allowed, flagged stale', async () => {
    const { as } = tenant();
    const r = await as('alice', 'post', '/incident-mappings/', {
      incident_id: 'I-1',
      technique: 'T1064',
      allow_deprecated: true,
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      kind: 'incident',
      incident_id: 'I-1',
      stale: true,
      technique: { id: 'T1064' },
    });
  });

  it('maps a revoked technique to its replacement, with a warning', async () => {
    const { as } = tenant();
    const r = await as('alice', 'post', '/observable-mappings/', {
      observable_id: 'O-1',
      alert_id: 'A-1',
      technique: 'T1143',
      observable_type: 'process',
      observable_value: 'powershell.exe -w hidden',
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      technique: { id: 'T1564.003' },
      original_technique_id: 'T1143',
      alert_id: 'A-1',
    });
    expect(r.body.warnings[0]).toMatch(/T1143 is revoked: mapped to T1564.003/);
  });

  it('creates in bulk, all or nothing, naming each bad item', async () => {
    const { as } = tenant();
    const bad = await as('alice', 'post', '/alert-mappings/bulk/', {
      items: [
        { alert_id: 'B-1', technique: 'T1059' },
        { alert_id: 'B-2', technique: 'T0000' },
        { alert_id: 'B-3', technique: 'T1564', tactic: 'execution' },
      ],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([
      { path: '/items/1/technique', message: 'unknown technique T0000' },
      {
        path: '/items/2/tactic',
        message: expect.stringMatching(/execution is not a tactic of T1564/),
      },
    ]);
    expect((await as('alice', 'get', '/alert-mappings/?alert_id=B-1')).body.count).toBe(0);
    const good = await as('alice', 'post', '/alert-mappings/bulk/', {
      items: [
        { alert_id: 'B-1', technique: 'T1059', confidence: 30 },
        { alert_id: 'B-2', technique: 'T1059.003', source: 'enrichment' },
        { alert_id: 'B-1', technique: 'T1059', confidence: 30 },
      ],
    });
    expect(good.status).toBe(201);
    expect(good.body).toMatchObject({ count: 3, created: 2 });
    expect(good.body.results[0]).toEqual({
      index: 0,
      id: expect.any(String),
      created: true,
      warnings: [],
    });
    expect(good.body.results[2]).toMatchObject({ index: 2, created: false });
    expect(good.body.results[2].id).toBe(good.body.results[0].id);
    const second = await as('alice', 'get', `/alert-mappings/${good.body.results[1].id}/`);
    expect(second.body).toMatchObject({
      alert_id: 'B-2',
      technique: { id: 'T1059.003' },
      source: 'enrichment',
    });
  });

  it('creates new and existing entities alike in one bulk, with their parents and audit', async () => {
    const { id, as } = tenant();
    expect(
      (await as('alice', 'post', '/alert-mappings/', { alert_id: 'M-1', technique: 'T1059' }))
        .status,
    ).toBe(201);
    const r = await as('alice', 'post', '/alert-mappings/bulk/', {
      items: [
        { alert_id: 'M-1', technique: 'T1059.001', incident_id: 'I-9' },
        { alert_id: 'M-2', technique: 'T1059', incident_id: 'I-9', title: 'new one' },
        { alert_id: 'M-2', technique: 'T1059.003', occurred_at: '2026-01-02T03:04:05Z' },
      ],
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ count: 3, created: 3 });
    // M-1 existed: its parent is left as it was (no update_entity), with a warning.
    expect(r.body.results[0].warnings).toEqual([expect.stringMatching(/M-1 exists: incident_id/)]);
    const [row] = await graph.read<{ alerts: number; incidents: string[]; events: number }>(
      `MATCH (a:Alert {tenant: $t})
       RETURN count(a) AS alerts,
              [(x:Alert {tenant: $t, id: 'M-2'})-[:PART_OF]->(i:Incident) | i.id] AS incidents,
              COUNT { MATCH (e:EntityEvent {tenant: $t, action: 'created'}) } AS events`,
      { t: id },
    );
    expect(row).toEqual({ alerts: 2, incidents: ['I-9'], events: 2 });
    const m2 = await as('alice', 'get', '/alert-mappings/?alert_id=M-2');
    expect(m2.body.count).toBe(2);
    expect(m2.body.results.map((m: { incident_id: string }) => m.incident_id)).toEqual([
      'I-9',
      'I-9',
    ]);
    expect(
      m2.body.results.find((m: { technique: { id: string } }) => m.technique.id === 'T1059.003'),
    ).toMatchObject({ occurred_at: '2026-01-02T03:04:05Z', created_by: 'alice' });
    const events = await as('alice', 'get', `/alert-mappings/${r.body.results[1].id}/events/`);
    expect(events.body.results).toEqual([
      expect.objectContaining({ action: 'created', actor: 'alice' }),
    ]);
  });

  it('creates new observables under their alert and incident, and new incidents, in bulk', async () => {
    const { id, as } = tenant();
    const obs = await as('alice', 'post', '/observable-mappings/bulk/', {
      items: [
        {
          observable_id: 'O-1',
          alert_id: 'OA-1',
          incident_id: 'OI-1',
          observable_type: 'process',
          observable_value: 'powershell.exe -enc ...',
          technique: 'T1059.001',
        },
        { observable_id: 'O-2', alert_id: 'OA-1', technique: 'T1564.003' },
      ],
    });
    expect(obs.status).toBe(201);
    const inc = await as('alice', 'post', '/incident-mappings/bulk/', {
      items: [{ incident_id: 'OI-2', technique: 'T1564', title: 'phish' }],
    });
    expect(inc.status).toBe(201);
    const rows = await graph.read<{ id: string; parents: string[]; props: object }>(
      `MATCH (o) WHERE (o:Observable OR o:Incident) AND o.tenant = $t AND o.id IN ['O-1', 'O-2', 'OI-2']
       RETURN o.id AS id, o {.type, .value, .title} AS props,
              [(o)-[:PART_OF]->(p) | labels(p)[0] + ':' + p.id] AS parents ORDER BY id`,
      { t: id },
    );
    expect(rows.map((r) => ({ ...r, parents: [...r.parents].sort() }))).toEqual([
      {
        id: 'O-1',
        props: { type: 'process', value: 'powershell.exe -enc ...', title: null },
        parents: ['Alert:OA-1', 'Incident:OI-1'],
      },
      { id: 'O-2', props: { type: null, value: null, title: null }, parents: ['Alert:OA-1'] },
      { id: 'OI-2', props: { type: null, value: null, title: 'phish' }, parents: [] },
    ]);
  });

  it('loses and duplicates nothing when bulks race to create the same new entities', async () => {
    const { id, as } = tenant();
    const items = Array.from({ length: 200 }, (_, i) => ({
      alert_id: `R-${i}`,
      incident_id: `RI-${i % 7}`,
      technique: i % 2 ? 'T1059' : 'T1059.001',
    }));
    const answers = await Promise.all(
      [0, 1, 2].map((n) =>
        as(n === 1 ? 'bob' : 'alice', 'post', '/alert-mappings/bulk/', {
          items: n === 2 ? [...items].reverse() : items,
        }),
      ),
    );
    for (const a of answers) expect(a.status).toBe(201);
    // Each mapping was created by exactly one of them, and all three answer its id.
    const created = answers.reduce((n, a) => n + (a.body.created as number), 0);
    expect(created).toBe(200);
    const idOf = (a: (typeof answers)[number], alert: string) =>
      a.body.results[
        (a === answers[2] ? [...items].reverse() : items).findIndex((x) => x.alert_id === alert)
      ].id;
    for (const alert of ['R-0', 'R-101', 'R-199'])
      expect(new Set(answers.map((a) => idOf(a, alert))).size).toBe(1);
    const [row] = await graph.read<{ alerts: number; incidents: number; mappings: number }>(
      `RETURN COUNT { MATCH (a:Alert {tenant: $t}) } AS alerts,
              COUNT { MATCH (i:Incident {tenant: $t}) } AS incidents,
              COUNT { MATCH (m:Mapping {tenant: $t}) } AS mappings`,
      { t: id },
    );
    expect(row).toEqual({ alerts: 200, incidents: 7, mappings: 200 });
  });

  it('lets viewers read but not create', async () => {
    const { as } = tenant();
    expect(
      (await as('victor', 'post', '/alert-mappings/', { alert_id: 'V', technique: 'T1059' }))
        .status,
    ).toBe(403);
    expect((await as('victor', 'get', '/alert-mappings/')).status).toBe(200);
  });
});

describe('listing mappings', () => {
  const t = tenant();
  const as = t.as;
  beforeAll(async () => {
    const one = await as('alice', 'post', '/alert-mappings/', {
      alert_id: 'A-1',
      technique: 'T1059.001',
      tactic: 'execution',
      source: 'rule',
      confidence: 80,
      occurred_at: '2026-11-01T10:00:00Z',
    });
    expect(one.status).toBe(201);
    const bulk = await as('alice', 'post', '/alert-mappings/bulk/', {
      items: [
        { alert_id: 'B-1', technique: 'T1059', confidence: 30 },
        { alert_id: 'B-2', technique: 'T1059.003', source: 'enrichment' },
      ],
    });
    expect(bulk.status).toBe(201);
  });

  it.each([
    ['technique=T1059', ['B-1']],
    ['technique=T1059&include_subtechniques=true', ['A-1', 'B-1', 'B-2']],
    ['tactic=execution', ['A-1']],
    ['source=enrichment', ['B-2']],
    ['min_confidence=60', ['A-1']],
    ['alert_id=A-1', ['A-1']],
    ['occurred_after=2026-10-01T00:00:00Z&occurred_before=2026-12-01T00:00:00Z', ['A-1']],
  ])('filters alert mappings by %s', async (query, alerts) => {
    const r = await as('victor', 'get', `/alert-mappings/?${query}`);
    expect(r.status).toBe(200);
    expect(r.body.results.map((m: { alert_id: string }) => m.alert_id).sort()).toEqual(alerts);
  });

  it('pages in the seed platform shape', async () => {
    const r = await as('victor', 'get', '/alert-mappings/?limit=1');
    expect(r.body.count).toBe(3);
    expect(r.body.results).toHaveLength(1);
    expect(r.body.next).toMatch(/offset=1/);
  });
});

describe('changing and deleting', () => {
  it('lets an analyst change her own mapping, audited', async () => {
    const t = tenant();
    const id = await aliceMapping(t);
    const r = await t.as('alice', 'patch', `/alert-mappings/${id}/`, {
      confidence: 90,
      procedure: 'updated',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ confidence: 90, procedure: 'updated', source: 'rule' });
    const events = (await t.as('victor', 'get', `/alert-mappings/${id}/events/`)).body.results;
    expect(events.map((e: { action: string }) => e.action)).toEqual(['created', 'updated']);
    expect(events[1]).toMatchObject({
      actor: 'alice',
      changes: { confidence: { from: 80, to: 90 }, procedure: { from: null, to: 'updated' } },
    });
  });

  it("forbids another analyst's change, allows the tenant admin's", async () => {
    const t = tenant();
    const id = await aliceMapping(t);
    expect((await t.as('bob', 'patch', `/alert-mappings/${id}/`, { confidence: 10 })).status).toBe(
      403,
    );
    expect((await t.as('bob', 'delete', `/alert-mappings/${id}/`)).status).toBe(403);
    const r = await t.as('ada', 'patch', `/alert-mappings/${id}/`, { source: 'manual' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ source: 'manual', confidence: 80 });
  });

  it('refuses a change that would duplicate another mapping', async () => {
    const t = tenant();
    await aliceMapping(t);
    const other = await t.as('alice', 'post', '/alert-mappings/', {
      alert_id: 'A-1',
      technique: 'T1059.001',
    });
    expect(other.status).toBe(201);
    const r = await t.as('alice', 'patch', `/alert-mappings/${other.body.id}/`, {
      tactic: 'execution',
    });
    expect(r.status).toBe(409);
    expect((await t.as('alice', 'delete', `/alert-mappings/${other.body.id}/`)).status).toBe(204);
  });

  it('deletes, keeping the audit trail', async () => {
    const t = tenant();
    const id = await aliceMapping(t);
    expect(
      (await t.as('alice', 'patch', `/alert-mappings/${id}/`, { confidence: 90 })).status,
    ).toBe(200);
    expect(
      (await t.as('ada', 'patch', `/alert-mappings/${id}/`, { source: 'manual' })).status,
    ).toBe(200);
    expect((await t.as('ada', 'delete', `/alert-mappings/${id}/`)).status).toBe(204);
    expect((await t.as('ada', 'get', `/alert-mappings/${id}/`)).status).toBe(404);
    const events = (await t.as('victor', 'get', `/alert-mappings/${id}/events/`)).body.results;
    expect(events.map((e: { action: string; actor: string }) => `${e.action}:${e.actor}`)).toEqual([
      'created:alice',
      'updated:alice',
      'updated:ada',
      'deleted:ada',
    ]);
  });
});

describe('tenants', () => {
  it("never shows one tenant's mappings to another: a foreign id is a 404", async () => {
    const { as } = tenant();
    const mine = await as('alice', 'post', '/alert-mappings/', {
      alert_id: 'T-1',
      technique: 'T1059',
    });
    for (const [method, body] of [['get'], ['patch', { confidence: 1 }], ['delete']] as const) {
      const r = await as('gina', method, `/alert-mappings/${mine.body.id}/`, body);
      expect(r.status).toBe(404);
    }
    expect((await as('gina', 'get', `/alert-mappings/${mine.body.id}/events/`)).status).toBe(404);
    expect((await as('gina', 'get', '/alert-mappings/')).body.count).toBe(0);
    expect((await as('gina', 'get', '/alert-mappings/?alert_id=T-1')).body.count).toBe(0);
  });

  it('makes a superuser name the tenant', async () => {
    const t = tenant();
    await aliceMapping(t, 'T-1');
    expect((await t.as('root', 'get', '/alert-mappings/')).status).toBe(400);
    const r = await request(api.app)
      .get('/api/v1/mitre/alert-mappings/?alert_id=T-1')
      .set('Authorization', `Bearer ${await superuser()}`)
      .set('X-Tenant', t.id);
    expect(r.body.count).toBe(1);
  });
});

describe('releases that revoke or deprecate', () => {
  it("checks staleness from the stale mappings' index, never by reading every mapping", async () => {
    const cfg = loadConfig();
    const driver = createDriver({ ...cfg.neo4j, uri: cfg.neo4j.uri! });
    try {
      const { 'mappings/flag-stale': query } = loadQueries(['mappings/flag-stale']);
      const { summary } = await driver.executeQuery(`EXPLAIN ${query}`, { now: 'x' });
      const steps: string[] = [];
      const walk = (p: {
        operatorType: string;
        arguments: Record<string, unknown>;
        children: unknown[];
      }) => {
        steps.push(`${p.operatorType} ${String(p.arguments.Details ?? '')}`);
        p.children.forEach((c) => walk(c as typeof p));
      };
      walk(summary.plan as unknown as Parameters<typeof walk>[0]);
      // With millions of mappings the old statement, which expanded every technique to all of
      // its mappings, made each release's remap take 30 s.
      expect(steps).toContainEqual(expect.stringMatching(/^NodeIndexSeek.*m:Mapping\(stale\)/));
      expect(steps).not.toContainEqual(expect.stringMatching(/^NodeByLabelScan.*m:Mapping/));
    } finally {
      await driver.close();
    }
  });

  it('moves mappings of a revoked technique and flags those of a deprecated one', async () => {
    const { as } = tenant();
    const bulk = await as('alice', 'post', '/alert-mappings/bulk/', {
      items: [{ alert_id: 'B-2', technique: 'T1059.003', source: 'enrichment' }],
    });
    expect(bulk.status).toBe(201);
    const moved = await as('alice', 'post', '/alert-mappings/', {
      alert_id: 'R-1',
      technique: 'T1059.003',
      tactic: 'execution',
    });
    const staled = await as('alice', 'post', '/alert-mappings/', {
      alert_id: 'R-2',
      technique: 'T1564',
    });
    // A release in which T1059.003 is revoked by T1059.001 and T1564 deprecated.
    const bundle = fixtureBundle();
    const byAttackId = (id: string) =>
      bundle.objects.find(
        (o) =>
          (o.external_references as Array<{ external_id?: string }> | undefined)?.[0]
            ?.external_id === id && o.type === 'attack-pattern',
      )!;
    const t3 = byAttackId('T1059.003');
    const t1 = byAttackId('T1059.001');
    t3.revoked = true;
    t3.modified = '2026-11-01T00:00:00.000Z';
    byAttackId('T1564').x_mitre_deprecated = true;
    bundle.objects.push({
      type: 'relationship',
      id: 'relationship--5b0d2c2e-6c3e-4a8c-9f0e-2f7e3b1d9c01',
      spec_version: '2.1',
      created: '2026-11-01T00:00:00.000Z',
      modified: '2026-11-01T00:00:00.000Z',
      relationship_type: 'revoked-by',
      source_ref: t3.id,
      target_ref: t1.id,
    });
    const report = await api.importer.importBytes(asFetched(bundle, 'release-19'));
    expect(report.totals).toMatchObject({ revoked: 1, deprecated: 1 });
    const m = (await as('alice', 'get', `/alert-mappings/${moved.body.id}/`)).body;
    expect(m).toMatchObject({
      technique: { id: 'T1059.001' },
      original_technique_id: 'T1059.003',
      tactic: 'execution',
    });
    const s = (await as('alice', 'get', `/alert-mappings/${staled.body.id}/`)).body;
    expect(s.stale).toBe(true);
    const events = (await as('alice', 'get', `/alert-mappings/${moved.body.id}/events/`)).body
      .results;
    expect(events.map((e: { action: string; actor: string }) => `${e.action}:${e.actor}`)).toEqual([
      'created:alice',
      'remapped:system',
    ]);
    const changes = (await as('victor', 'get', '/mapping-changes/?kind=alert')).body;
    // B-2 was mapped to T1059.003 too: it moves as well.
    expect(changes.results.map((c: { alert_id: string }) => c.alert_id).sort()).toEqual([
      'B-2',
      'R-1',
      'R-2',
    ]);
    // Idempotent: running it again moves nothing.
    expect(await api.mappings.applyRelease()).toEqual({ remapped: 0, staleChanged: 0 });
    // Gina's tenant sees none of it.
    expect((await as('gina', 'get', '/mapping-changes/')).body.count).toBe(0);
    // The fixture as it was, for whatever runs next (T1059.003 active, T1564 not deprecated).
    expect((await api.importer.importBytes(asFetched(fixtureBundle(), 'fixture'))).changed).toBe(
      true,
    );
    // T1564 is active again: its mapping is no longer stale, and the trail says the system did it.
    expect((await as('alice', 'get', `/alert-mappings/${staled.body.id}/`)).body.stale).toBe(false);
    const unflagged = (await as('alice', 'get', `/alert-mappings/${staled.body.id}/events/`)).body
      .results as Array<{ action: string; actor: string }>;
    expect(unflagged.map((e) => `${e.action}:${e.actor}`)).toEqual([
      'created:alice',
      'flagged-stale:system',
      'unflagged-stale:system',
    ]);
  });
});
