import request from 'supertest';
import { loadCorpus } from '../../src/enrichment/corpus';
import { loadPatterns } from '../../src/enrichment/patterns';
import type { Graph } from '../../src/shared/neo4j';
import { analyst, testApp, token, viewer, type TestApi } from '../support/api';
import { attackData, freshGraph } from '../support/graph';

// The enrichment engine through the API, on the real Enterprise 18.1 graph.
const API = '/api/v1/mitre';
let graph: Graph;
let api: TestApi;

beforeAll(async () => {
  graph = await freshGraph();
  api = await testApp();
  await api.importer.importBytes(attackData('enterprise-attack-18.1.json.gz'));
}, 240_000);
afterAll(async () => {
  await api?.close();
  await graph?.close();
});

const enrich = async (body: unknown, as?: string) =>
  request(api.app)
    .post(`${API}/enrich/`)
    .set('Authorization', `Bearer ${as ?? (await viewer())}`)
    .send(body as object);

describe('POST enrich/', () => {
  it('learns from every active Enterprise technique', async () => {
    const corpus = await loadCorpus(graph);
    // Enterprise 18.1: 691 active techniques and sub-techniques (the data's README).
    expect(corpus.techniques).toHaveLength(691);
    expect(corpus.techniques.reduce((n, t) => n + t.procedures.length, 0)).toBeGreaterThan(15_000);
  });

  it('has a pattern library whose every technique is active in Enterprise 18.1', async () => {
    const active = new Set((await loadCorpus(graph)).techniques.map((t) => t.attackId));
    const stale = loadPatterns()
      .patterns.filter((p) => !active.has(p.technique))
      .map((p) => `${p.id} → ${p.technique}`);
    expect(stale).toEqual([]);
  });

  it('puts T1059.001 first for an encoded PowerShell command line, and says why', async () => {
    const r = await enrich({
      items: [
        {
          id: 'a-1',
          title: 'Suspicious process',
          command_line:
            'powershell.exe -nop -w hidden -enc SQBFAFgAKABOAGUAdwAtAE8AYgBqAGUAYwB0ACAATgBlAHQA',
        },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.model.techniques).toBe(691);
    const [first] = r.body.results[0].techniques;
    expect(r.body.results[0].id).toBe('a-1');
    expect(first).toMatchObject({ technique: 'T1059.001', name: 'PowerShell' });
    expect(first.confidence).toBeGreaterThan(0.5);
    expect(first.tactics).toEqual(['execution']);
    expect(first.evidence).toContainEqual(
      expect.objectContaining({
        signal: 'pattern',
        field: 'command_line',
        detail: 'powershell-encoded-command',
      }),
    );
  });

  it('takes ids and tags as given, resolving revoked ones, and answers in order', async () => {
    const r = await enrich({
      items: [
        { tags: ['attack.t1059.001', 'attack.execution'] },
        { text: 'Detection rule for T1086' },
        { text: 'nothing to see here' },
      ],
      top_k: 1,
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: { index: number }) => x.index)).toEqual([0, 1, 2]);
    expect(r.body.results[0].techniques).toEqual([
      expect.objectContaining({ technique: 'T1059.001', confidence: 0.98 }),
    ]);
    // T1086 (PowerShell) was revoked by T1059.001.
    expect(r.body.results[1].techniques[0]).toMatchObject({
      technique: 'T1059.001',
      evidence: [
        expect.objectContaining({
          signal: 'id',
          detail: expect.stringMatching(/T1086 was revoked/),
        }),
      ],
    });
    expect(r.body.results[0].techniques).toHaveLength(1);
  });

  it('gives the same answer to the same input', async () => {
    const body = {
      items: [{ text: 'Adversary dumped credentials from LSASS memory using procdump' }],
      top_k: 5,
      min_confidence: 0,
    };
    const a = await enrich(body);
    const b = await enrich(body);
    expect(a.body.results).toEqual(b.body.results);
    expect(a.body.results[0].techniques[0].technique).toBe('T1003.001');
  });

  it('refuses more than 1,000 items and unknown fields', async () => {
    const many = await enrich({ items: Array.from({ length: 1_001 }, () => ({ text: 'x' })) });
    expect(many.status).toBe(400);
    const unknown = await enrich({ items: [{ text: 'x', nope: 1 }] });
    expect(unknown.status).toBe(400);
    expect(unknown.type).toBe('application/problem+json');
  });
});

describe('POST alert-mappings/auto/', () => {
  const auto = async (body: unknown, as: string) =>
    request(api.app)
      .post(`${API}/alert-mappings/auto/`)
      .set('Authorization', `Bearer ${as}`)
      .send(body as object);

  it('stores suggestions as enrichment mappings once, with evidence, in the caller tenant only', async () => {
    const alice = await analyst();
    const body = {
      items: [
        {
          alert_id: 'AUTO-1',
          command_line: 'vssadmin.exe delete shadows /all /quiet',
        },
      ],
      min_confidence: 0.5,
    };
    const first = await auto(body, alice);
    expect(first.status).toBe(200);
    expect(first.body.created).toBeGreaterThanOrEqual(1);
    const stored = first.body.results[0].mappings;
    expect(stored[0]).toMatchObject({ technique: 'T1490', created: true });

    const again = await auto(body, alice);
    expect(again.body.created).toBe(0);
    expect(again.body.results[0].mappings.map((m: { id: string }) => m.id)).toEqual(
      stored.map((m: { id: string }) => m.id),
    );

    const mapping = await request(api.app)
      .get(`${API}/alert-mappings/${stored[0].id}/`)
      .set('Authorization', `Bearer ${alice}`);
    expect(mapping.body).toMatchObject({
      source: 'enrichment',
      confidence: stored[0].confidence,
      alert_id: 'AUTO-1',
    });
    expect(mapping.body.evidence).toContainEqual(
      expect.objectContaining({ signal: 'pattern', detail: 'inhibit-recovery' }),
    );
    const events = await request(api.app)
      .get(`${API}/alert-mappings/${stored[0].id}/events/`)
      .set('Authorization', `Bearer ${alice}`);
    expect(events.body.results[0]).toMatchObject({
      action: 'created',
      changes: { created: { technique: 'T1490', source: 'enrichment' } },
    });

    const other = await token({ sub: 'eve', tenant: 'globex', roles: ['analyst'] });
    const theirs = await request(api.app)
      .get(`${API}/alert-mappings/?alert_id=AUTO-1`)
      .set('Authorization', `Bearer ${other}`);
    expect(theirs.status).toBe(200);
    expect(theirs.body.count).toBe(0);
  });

  it('bounds what one request can store', async () => {
    // 1,000 items × top_k 10 is one bulk of at most 10,000 mappings; more is refused up front.
    const r = await auto(
      { items: [{ alert_id: 'AUTO-3', text: 'x' }], top_k: 11 },
      await analyst(),
    );
    expect(r.status).toBe(400);
    expect(r.type).toBe('application/problem+json');
  });

  it('is refused to viewers', async () => {
    const r = await auto({ items: [{ alert_id: 'AUTO-2', text: 'x' }] }, await viewer());
    expect(r.status).toBe(403);
  });
});
