import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Graph } from '../../src/shared/neo4j';
import { analyst, superuser, testApp, token, viewer, type TestApi } from '../support/api';
import { attackData, freshGraph } from '../support/graph';
import { readLayer, writeLayer } from '../support/layer-reader';

// Next steps, paths, reports, Navigator layers and dashboards through the API, on the real
// Enterprise 18.1 graph. Tenant acme's incident I-38 follows a third of APT38's (G0082) published
// techniques, spread over the incident, two alerts and an observable; tenant globex has its own.
const API = '/api/v1/mitre';
let graph: Graph;
let api: TestApi;
let apt38: string[];
let observed: string[];

const get = async (url: string, as?: string) =>
  request(api.app)
    .get(`${API}${url}`)
    .set('Authorization', `Bearer ${as ?? (await viewer())}`);

const bulk = async (kind: string, items: object[], as?: string) => {
  const r = await request(api.app)
    .post(`${API}/${kind}-mappings/bulk/`)
    .set('Authorization', `Bearer ${as ?? (await analyst())}`)
    .send({ items });
  expect(r.status).toBe(201);
};

const globex = () => token({ sub: 'gina', tenant: 'globex', roles: ['analyst'] });

beforeAll(async () => {
  graph = await freshGraph();
  api = await testApp();
  await api.importer.importBytes(attackData('enterprise-attack-18.1.json.gz'));
  const [row] = await graph.read<{ ids: string[] }>(
    `MATCH (:Group {attack_id: 'G0082'})-[u:USES]->(t:Technique)
     WHERE NOT coalesce(t.revoked, false) AND NOT coalesce(t.deprecated, false)
     WITH DISTINCT t.attack_id AS id ORDER BY id RETURN collect(id) AS ids`,
  );
  apt38 = row?.ids ?? [];
  observed = apt38.filter((_, i) => i % 3 === 0);
  const at = (i: number) => new Date(Date.UTC(2026, 2, 1, 10, i)).toISOString();
  const [own, alert1, alert2, obs] = [0, 1, 2, 3].map((k) =>
    observed.filter((_, i) => i % 4 === k),
  );
  await bulk(
    'incident',
    (own ?? []).map((technique) => ({ incident_id: 'I-38', technique })),
  );
  await bulk(
    'alert',
    (alert1 ?? []).map((technique, i) => ({
      alert_id: 'A-38-1',
      incident_id: 'I-38',
      technique,
      occurred_at: at(i),
      procedure: `seen <b>on</b> host | ${technique}`,
    })),
  );
  await bulk(
    'alert',
    (alert2 ?? []).map((technique, i) => ({
      alert_id: 'A-38-2',
      incident_id: 'I-38',
      technique,
      occurred_at: at(20 + i),
    })),
  );
  await bulk(
    'observable',
    (obs ?? []).map((technique) => ({ observable_id: 'O-38', alert_id: 'A-38-1', technique })),
  );
  // A past incident of acme sharing two techniques, and one more that nothing else suggests.
  await bulk('incident', [
    { incident_id: 'I-PAST', technique: observed[0] },
    { incident_id: 'I-PAST', technique: observed[1] },
    { incident_id: 'I-PAST', technique: 'T1649' },
  ]);
  // globex's incident shares techniques with I-38 and names another.
  await bulk(
    'incident',
    [
      { incident_id: 'I-GLOBEX', technique: observed[0] },
      { incident_id: 'I-GLOBEX', technique: observed[1] },
      { incident_id: 'I-GLOBEX', technique: 'T1606.002' },
    ],
    await globex(),
  );
}, 300_000);
afterAll(async () => {
  await api?.close();
  await graph?.close();
});

describe('the next-step model in the graph', () => {
  it('is rebuilt by the release as weighted SUGGESTS edges, recorded with its data version', async () => {
    const [m] = await graph.read<{
      built: string;
      edges: number;
      actors: number;
      reports: number;
      version: string[];
    }>(
      `MATCH (m:SuggestionModel {name: 'next-steps'})
       MATCH (d:AttackDomain) WITH m, d ORDER BY d.name
       RETURN m.data_version AS built, m.edges AS edges, m.actors AS actors, m.reports AS reports,
              collect(d.name + '@' + toString(d.last_change_at)) AS version`,
    );
    expect(m?.built).toBe(m?.version.join('|'));
    // Enterprise 18.1: ~1,000 actors with techniques; ~1,500 cited reports naming two or more.
    expect(m?.actors).toBeGreaterThan(900);
    expect(m?.reports).toBeGreaterThan(1_000);
    const [e] = await graph.read<{ n: number; bad: number }>(
      `MATCH (:Technique)-[s:SUGGESTS]->(:Technique)
       RETURN count(s) AS n, count(CASE WHEN s.weight <= 0 THEN 1 END) AS bad`,
    );
    expect(e?.n).toBe(m?.edges);
    expect(e?.n).toBeGreaterThan(10_000);
    expect(e?.bad).toBe(0);
    // Three granularities, the technique one among techniques alone.
    const [g] = await graph.read<{ fine: number; coarse: number; mixed: number; subs: number }>(
      `MATCH (a:Technique)-[s:SUGGESTS]->(b:Technique)
       RETURN count(CASE s.granularity WHEN 'sub-technique' THEN 1 END) AS fine,
              count(CASE s.granularity WHEN 'technique' THEN 1 END) AS coarse,
              count(CASE s.granularity WHEN 'mixed' THEN 1 END) AS mixed,
              count(CASE WHEN s.granularity = 'technique'
                          AND (a.is_subtechnique OR b.is_subtechnique) THEN 1 END) AS subs`,
    );
    expect(g?.fine).toBeGreaterThan(10_000);
    expect(g?.coarse).toBeGreaterThan(5_000);
    expect(g?.mixed).toBeGreaterThan(10_000);
    expect((g?.fine ?? 0) + (g?.coarse ?? 0) + (g?.mixed ?? 0)).toBe(e?.n);
    expect(g?.subs).toBe(0);
  });
});

describe('next steps', () => {
  /** A caller's list of observed techniques, top 20 answered. */
  const ask = async (techniques: string[]) =>
    request(api.app)
      .post(`${API}/next-steps/`)
      .set('Authorization', `Bearer ${await viewer()}`)
      .send({ techniques, top_k: 20 });

  it('ranks the rest of a known group first, with its evidence, observed ones excluded', async () => {
    const r = await get('/incidents/I-38/next-steps/?top_k=20');
    expect(r.status).toBe(200);
    expect(new Set(r.body.observed)).toEqual(new Set(observed));
    const ids = r.body.suggestions.map((s: { technique: string }) => s.technique);
    expect(ids).toHaveLength(20);
    for (const o of observed) expect(ids).not.toContain(o);
    const hidden = apt38.filter((t) => !observed.includes(t));
    // Far above what popularity alone finds for this group (measured: 0.05 of the rest).
    expect(ids.filter((t: string) => hidden.includes(t)).length / 20).toBeGreaterThanOrEqual(0.3);
    const first = r.body.suggestions[0];
    expect(first.score).toBeGreaterThan(r.body.suggestions[19].score);
    expect(first.evidence.observed.length).toBeGreaterThan(0);
    expect(first.evidence.actors_total).toBeGreaterThan(0);
    expect(['later', 'same', 'earlier']).toContain(first.phase);
  });

  it("counts the tenant's own past incidents, never another tenant's", async () => {
    const r = await get('/incidents/I-38/next-steps/?top_k=200');
    const t1649 = r.body.suggestions.find((s: { technique: string }) => s.technique === 'T1649');
    expect(t1649.evidence.incidents).toEqual([{ incident: 'I-PAST', shared: 2 }]);
    expect(t1649.parts.history).toBeGreaterThan(0);
    const all = r.body.suggestions.flatMap(
      (s: { evidence: { incidents: Array<{ incident: string }> } }) =>
        s.evidence.incidents.map((i) => i.incident),
    );
    expect(all).not.toContain('I-GLOBEX');
    expect(all).not.toContain('I-38');
  });

  it('takes technique ids from callers without an incident: revoked replaced, unknown listed', async () => {
    const r = await request(api.app)
      .post(`${API}/next-steps/`)
      .set('Authorization', `Bearer ${await viewer()}`)
      .send({ techniques: ['T1566.001', 'T1086', 'T9999', 'T1204.002'], top_k: 5 });
    expect(r.status).toBe(200);
    expect(r.body.replaced).toEqual([{ given: 'T1086', technique: 'T1059.001' }]);
    expect(r.body.unknown).toEqual(['T9999']);
    expect(r.body.observed).toEqual(
      expect.arrayContaining(['T1566.001', 'T1059.001', 'T1204.002']),
    );
    expect(r.body.suggestions).toHaveLength(5);
    expect(r.body.model.granularity).toBe('sub-technique');
  });

  it('answers a caller who names techniques alone with techniques alone', async () => {
    const coarse = await ask(['T1566', 'T1059', 'T1105', 'T1071']);
    expect(coarse.status).toBe(200);
    expect(coarse.body.model.granularity).toBe('technique');
    const ids: string[] = coarse.body.suggestions.map((s: { technique: string }) => s.technique);
    expect(ids).toHaveLength(20);
    expect(ids.filter((t) => t.includes('.'))).toEqual([]);
    // Actors count through their sub-techniques: most of them use T1566 and T1059 only so.
    expect(coarse.body.suggestions[0].evidence.actors_total).toBeGreaterThan(50);
    // Sub-techniques alone (beside techniques without any): ATT&CK's granularity.
    const fine = await ask(['T1566.001', 'T1059.001', 'T1105', 'T1071.001']);
    expect(fine.body.model.granularity).toBe('sub-technique');
    // Both levels, parents named more than ATT&CK's actors do: answered at both.
    const mixed = await ask(['T1566.001', 'T1059', 'T1105', 'T1071']);
    expect(mixed.body.model.granularity).toBe('mixed');
    const levels = mixed.body.suggestions.map((s: { technique: string }) =>
      s.technique.includes('.'),
    );
    expect(levels).toContain(true);
    expect(levels).toContain(false);
  });

  it('proposes the parents that a list naming sub-techniques beside their parents leaves out', async () => {
    // Two families of three named at both levels: ATT&CK's actors pair about 6 % of theirs.
    const both = await ask(['T1566', 'T1566.001', 'T1059', 'T1059.001', 'T1071.001', 'T1105']);
    expect(both.status).toBe(200);
    const first = both.body.suggestions[0];
    expect(first.technique).toBe('T1071');
    expect(first.parts.family).toBeGreaterThan(0.8);
    expect(first.evidence.sub_techniques).toEqual(['T1071.001']);
    for (const s of both.body.suggestions.slice(1)) expect(s.parts.family).toBe(0);
    // No pair among three families: the parents are no more likely than co-occurrence says.
    const fine = await ask(['T1566.001', 'T1059.001', 'T1071.001', 'T1105']);
    for (const s of fine.body.suggestions) expect(s.parts.family).toBeLessThan(0.05);
    expect(fine.body.suggestions[0].technique).not.toMatch(/^T(1566|1059|1071)$/);
  });

  it('finds past incidents through the sub-techniques of an observed parent', async () => {
    const initech = (role: string) => token({ sub: 'ivan', tenant: 'initech', roles: [role] });
    await bulk(
      'incident',
      [
        { incident_id: 'I-FAMILY', technique: 'T1566.001' },
        { incident_id: 'I-FAMILY', technique: 'T1059.001' },
        { incident_id: 'I-FAMILY', technique: 'T1650' },
      ],
      await initech('analyst'),
    );
    const r = await request(api.app)
      .post(`${API}/next-steps/`)
      .set('Authorization', `Bearer ${await initech('viewer')}`)
      .send({ techniques: ['T1566', 'T1059'], top_k: 200 });
    // The dashboards below count every tenant's incidents.
    await graph.write(`MATCH (n {tenant: 'initech'}) DETACH DELETE n`);
    expect(r.status).toBe(200);
    const t1650 = r.body.suggestions.find((s: { technique: string }) => s.technique === 'T1650');
    expect(t1650.evidence.incidents).toEqual([{ incident: 'I-FAMILY', shared: 2 }]);
    expect(t1650.parts.history).toBeGreaterThan(0);
  });
});

describe('paths', () => {
  it('walks forward in matrix order to the goal, each step with its defences and gaps', async () => {
    const r = await get('/incidents/I-38/paths/?to=exfiltration&limit=3');
    expect(r.status).toBe(200);
    expect(r.body.matrix).toBe('Enterprise ATT&CK');
    expect(r.body.goal.tactic).toBe('exfiltration');
    expect(r.body.paths.length).toBeGreaterThan(0);
    for (const p of r.body.paths) {
      const last = p.steps[p.steps.length - 1];
      expect(last.tactic).toBe('exfiltration');
      for (const s of p.steps) {
        expect(s.gap).toBe(s.detections.length === 0);
        expect(s.evidence).toBeDefined();
      }
    }
  });

  it('flags a step that no detection covers', async () => {
    // Take the detections away from the technique the best path ends with.
    const first = await get('/incidents/I-38/paths/?to=exfiltration&limit=1');
    const end = first.body.paths[0].steps.at(-1).technique;
    const [removed] = await graph.write<{ kept: Array<{ s: string; p: object }> }>(
      `MATCH (s:AttackObject)-[d:DETECTS]->(t:Technique {attack_id: $end})
       WITH d, properties(d) AS p, s DELETE d
       RETURN collect({s: s.stix_id, p: p}) AS kept`,
      { end },
    );
    expect(removed?.kept.length).toBeGreaterThan(0);
    try {
      const r = await get('/incidents/I-38/paths/?to=exfiltration&limit=1');
      const step = r.body.paths[0].steps.at(-1);
      expect(step.technique).toBe(end);
      expect(step.detections).toEqual([]);
      expect(step.gap).toBe(true);
    } finally {
      await graph.write(
        `UNWIND $kept AS k MATCH (s:AttackObject {stix_id: k.s}), (t:Technique {attack_id: $end})
         CREATE (s)-[d:DETECTS]->(t) SET d = k.p`,
        { kept: removed?.kept ?? [], end },
      );
    }
  });

  it('answers 400 for a tactic no matrix has', async () => {
    const r = await get('/incidents/I-38/paths/?to=teleportation');
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});

describe('the incident report', () => {
  it('ranks the group whose techniques the intrusion follows first, and covers what was seen', async () => {
    const r = await get('/incidents/I-38/report/');
    expect(r.status).toBe(200);
    expect(r.body.candidate_groups[0]).toMatchObject({ id: 'G0082', name: 'APT38' });
    expect(new Set(r.body.candidate_groups[0].shared)).toEqual(new Set(observed));
    expect(r.body.attack).toEqual([{ domain: 'enterprise-attack', version: '18.1' }]);
    expect(r.body.summary).toMatchObject({
      techniques: observed.length,
      alerts: 2,
      observables: 1,
    });
    expect(new Set(r.body.techniques.map((t: { technique: string }) => t.technique))).toEqual(
      new Set(observed),
    );
    const described = r.body.techniques.find((t: { how_used: string[] }) =>
      t.how_used[0]?.startsWith('seen <b>on</b>'),
    );
    expect(described.url).toMatch(/^https:\/\/attack\.mitre\.org\/techniques\/T\d{4}\//);
    expect(r.body.mitigations.length).toBeGreaterThan(0);
    for (const m of r.body.mitigations)
      for (const c of m.covers) expect(observed).toContain(c.technique);
    expect(r.body.detections.length).toBeGreaterThan(0);
    expect(r.body.next_steps).toHaveLength(10);
    // The timeline follows time: the alerts' techniques, then the untimed ones.
    const times = r.body.timeline
      .map((t: { first_seen: string | null }) => t.first_seen)
      .filter((x: string | null) => x !== null);
    expect(times).toEqual([...times].sort());
  });

  it('renders markdown with the table intact and the analyst text escaped', async () => {
    const r = await get('/incidents/I-38/report/?format=markdown');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/markdown/);
    expect(r.text).toContain('| Tactic | Technique | ID | How it was used | First seen |');
    expect(r.text).toContain('seen \\<b\\>on\\</b\\> host \\| T');
    expect(r.text).toContain('[G0082](https://attack.mitre.org/groups/G0082/) APT38');
    // Every table row has its five cells.
    const rows = r.text
      .split('\n')
      .filter((l) => l.startsWith('| ') && l.includes('attack.mitre.org/techniques'));
    for (const row of rows.slice(0, observed.length))
      expect(row.replace(/\\\|/g, '').split('|').length).toBeGreaterThanOrEqual(6);
  });

  it('renders a printable HTML page with nothing to run, and it loads in headless Chromium', async () => {
    const r = await get('/incidents/I-38/report/?format=html');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    expect(r.text).not.toContain('<b>on</b>');
    expect(r.text).toContain('seen &lt;b&gt;on&lt;/b&gt; host');
    const dir = mkdtempSync(path.join(tmpdir(), 'ttpgraph-report-'));
    try {
      const file = path.join(dir, 'report.html');
      writeFileSync(file, r.text);
      const out = spawnSync(
        process.env.CHROMIUM ?? '/usr/bin/chromium',
        ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${file}`],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(out.status).toBe(0);
      // The DOM Chromium built has every section and the candidate group's link.
      for (const h of [
        'Summary',
        'Techniques',
        'Timeline by tactic',
        'Mitigations',
        'Detections to check',
        'Candidate groups',
        'Predicted next steps',
      ])
        expect(out.stdout).toContain(`<h2>${h}</h2>`);
      expect(out.stdout).toContain('href="https://attack.mitre.org/groups/G0082/"');
      expect(out.stdout).not.toContain('<script');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Navigator layers', () => {
  const roundTrip = (body: unknown) => {
    const read = readLayer(JSON.stringify(body));
    expect(readLayer(writeLayer(read))).toEqual(read);
    return read;
  };

  it("loads an incident's layer through the layer reader", async () => {
    const r = await get('/incidents/I-38/layer/');
    expect(r.status).toBe(200);
    const layer = roundTrip(r.body);
    expect(layer.versions).toMatchObject({ attack: '18', layer: '4.5' });
    expect(layer.domain).toBe('enterprise-attack');
    expect(new Set(layer.techniques.map((t) => t.techniqueID))).toEqual(new Set(observed));
    expect(layer.techniques.every((t) => (t.score ?? 0) >= 1)).toBe(true);
    expect(layer.legendItems.length).toBeGreaterThan(0);
  });

  it('compares the incident with a group: both, incident only, group only', async () => {
    const r = await get('/incidents/I-38/layer/?group=G0082');
    const layer = roundTrip(r.body);
    const score = new Map(layer.techniques.map((t) => [t.techniqueID, t.score]));
    expect(layer.techniques).toHaveLength(apt38.length);
    for (const t of observed) expect(score.get(t)).toBe(3);
    for (const t of apt38.filter((x) => !observed.includes(x))) expect(score.get(t)).toBe(1);
    expect((await get('/incidents/I-38/layer/?group=G9999')).status).toBe(404);
  });

  it("loads an alert's layer: its own and its observable's techniques", async () => {
    const r = await get('/alerts/A-38-1/layer/');
    const layer = roundTrip(r.body);
    const expected = observed.filter((_, i) => i % 4 === 1 || i % 4 === 3);
    expect(new Set(layer.techniques.map((t) => t.techniqueID))).toEqual(new Set(expected));
  });

  it("loads a dashboard window's layer", async () => {
    const r = await get('/dashboard/layer/?entity=incident');
    const layer = roundTrip(r.body);
    expect(layer.techniques.find((t) => t.techniqueID === 'T1649')?.score).toBe(1);
    expect(layer.techniques.find((t) => t.techniqueID === observed[0])?.score).toBe(2);
    // globex's own technique is not in acme's window.
    expect(layer.techniques.find((t) => t.techniqueID === 'T1606.002')).toBeUndefined();
  });

  it('rejects what is not a 4.5 layer', () => {
    expect(() => readLayer('{"name": "x", "domain": "enterprise-attack"}')).toThrow(/versions/);
    expect(() =>
      readLayer(
        JSON.stringify({
          name: 'x',
          domain: 'enterprise-attack',
          versions: { layer: '4.5', navigator: '5.1.0' },
          techniques: [{ techniqueID: 'T1059.1' }],
        }),
      ),
    ).toThrow(/techniqueID/);
  });
});

describe('dashboard breakdown', () => {
  it("counts the tenant's incidents per technique, sub-techniques rolled up, top N and tail", async () => {
    const r = await get('/dashboard/breakdown/?by=sub-technique&entity=incident&top=1');
    expect(r.status).toBe(200);
    expect(r.body.tenant).toBe('acme');
    // observed[0] and [1] are on I-38 (when the incident's own) and I-PAST.
    expect(r.body.top[0].entities).toBe(2);
    expect(r.body.totals.entities).toBe(2);
    const keys = r.body.top.length + r.body.tail.keys;
    const incidentOwn = observed.filter((_, i) => i % 4 === 0);
    expect(keys).toBe(new Set([...incidentOwn, observed[1], 'T1649']).size);
    expect(
      r.body.incidents_by_phase.reduce((s: number, p: { incidents: number }) => s + p.incidents, 0),
    ).toBe(2);
  });

  it('counts alerts per tactic in weekly buckets inside the window', async () => {
    const r = await get(
      `/dashboard/breakdown/?by=tactic&entity=alert&bucket=week&from=${encodeURIComponent('2026-03-01T00:00:00Z')}&to=${encodeURIComponent('2026-03-02T00:00:00Z')}`,
    );
    expect(r.status).toBe(200);
    expect(r.body.totals.entities).toBe(2);
    expect(r.body.buckets).toHaveLength(1);
    expect(r.body.buckets[0].start).toBe('2026-02-23');
    const none = await get(
      `/dashboard/breakdown/?by=tactic&entity=alert&from=${encodeURIComponent('2026-04-01T00:00:00Z')}`,
    );
    expect(none.body.totals).toEqual({ entities: 0, mappings: 0 });
  });

  it('lets a superuser without a tenant see every tenant', async () => {
    const r = await get(
      '/dashboard/breakdown/?by=sub-technique&entity=incident&top=100',
      await superuser(),
    );
    expect(r.status).toBe(200);
    expect(r.body.tenant).toBe('*');
    expect(r.body.top.map((t: { key: string }) => t.key)).toContain('T1606.002');
    expect(r.body.totals.entities).toBe(3);
  });
});

describe('tenancy', () => {
  it("answers 404 for another tenant's incident or alert on every report", async () => {
    const as = await globex();
    for (const url of [
      '/incidents/I-38/kill-chain/',
      '/incidents/I-38/next-steps/',
      '/incidents/I-38/paths/?to=impact',
      '/incidents/I-38/report/',
      '/incidents/I-38/report/?format=html',
      '/incidents/I-38/layer/',
      '/alerts/A-38-1/layer/',
    ]) {
      const r = await get(url, as);
      expect({ url, status: r.status }).toEqual({ url, status: 404 });
    }
    const own = await get('/dashboard/breakdown/?by=sub-technique&top=100', as);
    expect(own.body.totals.entities).toBe(1);
  });
});

describe('CLI', () => {
  const cli = (args: string[], input?: string) =>
    spawnSync(process.execPath, [path.resolve(__dirname, '../../dist/src/cli/main.js'), ...args], {
      encoding: 'utf8',
      input,
      env: { ...process.env, LOG_LEVEL: 'silent' },
      timeout: 120_000,
    });

  it('prints the report in each format', () => {
    const json = cli(['report', '--incident', 'I-38', '--tenant', 'acme']);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout).candidate_groups[0].id).toBe('G0082');
    const nav = cli(['report', '--incident', 'I-38', '--tenant', 'acme', '--format', 'navigator']);
    expect(readLayer(nav.stdout).techniques.length).toBe(observed.length);
    const md = cli(['report', '--incident', 'I-38', '--tenant', 'acme', '--format', 'markdown']);
    expect(md.stdout).toContain('# ATT&CK report: incident I-38');
    const missing = cli(['report', '--incident', 'I-38', '--tenant', 'globex']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/no incident with id I-38/);
  });

  it('streams next steps, one line per input line, observed excluded', () => {
    const lines = [
      JSON.stringify({ id: 'a', techniques: ['T1566.001', 'T1204.002'] }),
      'not json',
      JSON.stringify({ id: 'b', techniques: ['T1086', 'T9999'] }),
    ].join('\n');
    const out = cli(['next-steps', '--input', '-', '--top-k', '7', '--json'], lines);
    const rows = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(3);
    expect(rows[0].id).toBe('a');
    expect(rows[0].granularity).toBe('sub-technique');
    expect(rows[0].suggestions).toHaveLength(7);
    expect(rows[0].suggestions.map((s: { technique: string }) => s.technique)).not.toContain(
      'T1566.001',
    );
    expect(rows[1].error).toMatch(/JSON/);
    expect(rows[2].replaced).toEqual([{ given: 'T1086', technique: 'T1059.001' }]);
    expect(rows[2].unknown).toEqual(['T9999']);
    expect(out.status).toBe(3);
  });

  it('answers the same file the same way, 50 suggestions by default', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ttpgraph-next-'));
    try {
      const file = path.join(dir, 'in.jsonl');
      writeFileSync(file, `${JSON.stringify({ id: 'x', techniques: observed })}\n`);
      const [one, two] = [
        cli(['next-steps', '--input', file, '--json']),
        cli(['next-steps', '--input', file, '--json']),
      ];
      expect(one.status).toBe(0);
      expect(one.stdout).toBe(two.stdout);
      expect(JSON.parse(one.stdout).suggestions).toHaveLength(50);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
