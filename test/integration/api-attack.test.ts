import request from 'supertest';
import type { Graph } from '../../src/shared/neo4j';
import { analyst, fixtureApp, type TestApi, token } from '../support/api';
import { fixtureBundle } from '../support/graph';

let graph: Graph;
let api: TestApi;
let auth: string;

beforeAll(async () => {
  ({ graph, api } = await fixtureApp());
  auth = `Bearer ${await analyst()}`;
});
afterAll(async () => {
  await api.close();
  await graph.close();
});

const get = (path: string) => request(api.app).get(path).set('Authorization', auth);
const ids = (body: { results: Array<{ id: string | null }> }) => body.results.map((r) => r.id);

describe('ATT&CK lists', () => {
  it('lists tactics in ATT&CK id order, in the seed platform page shape', async () => {
    const r = await get('/api/v1/mitre/tactics/').expect(200);
    expect(r.body).toEqual({ count: 3, next: null, previous: null, results: expect.any(Array) });
    expect(ids(r.body)).toEqual(['TA0002', 'TA0003', 'TA0005']);
    expect(r.body.results[0]).toMatchObject({
      shortname: 'execution',
      type: 'x-mitre-tactic',
      revoked: false,
    });
  });

  it('leaves revoked and deprecated techniques out unless asked', async () => {
    expect(ids((await get('/api/v1/mitre/techniques/').expect(200)).body)).toEqual([
      'T1059',
      'T1059.001',
      'T1059.003',
      'T1564',
      'T1564.003',
    ]);
    expect(
      (await get('/api/v1/mitre/techniques/?include_revoked=true').expect(200)).body.count,
    ).toBe(6);
    const all = await get(
      '/api/v1/mitre/techniques/?include_revoked=true&include_deprecated=true',
    ).expect(200);
    expect(ids(all.body)).toEqual([
      'T1059',
      'T1059.001',
      'T1059.003',
      'T1064',
      'T1143',
      'T1564',
      'T1564.003',
    ]);
  });

  it.each([
    ['tactic=execution', ['T1059', 'T1059.001', 'T1059.003']],
    ['tactic=TA0005', ['T1564', 'T1564.003']],
    ['is_subtechnique=true', ['T1059.001', 'T1059.003', 'T1564.003']],
    ['is_subtechnique=false', ['T1059', 'T1564']],
    ['parent=T1059', ['T1059.001', 'T1059.003']],
    ['parent=attack-pattern--7385dfaf-6886-4229-9ecd-6fd678040830', ['T1059.001', 'T1059.003']],
    ['domain=mobile-attack', []],
    ['domain=enterprise-attack&tactic=execution&is_subtechnique=false', ['T1059']],
    ['platform=wInDoWs&parent=T1564', ['T1564.003']],
    ['modified_after=2100-01-01T00:00:00Z', []],
  ])('filters techniques by %s', async (query, expected) => {
    expect(ids((await get(`/api/v1/mitre/techniques/?${query}`).expect(200)).body)).toEqual(
      expected,
    );
  });

  it('searches full text, ranked, an exact ATT&CK id first', async () => {
    const ps = await get('/api/v1/mitre/techniques/?search=powershell').expect(200);
    expect(ids(ps.body)[0]).toBe('T1059.001');
    const exact = await get('/api/v1/mitre/techniques/?search=T1059.003').expect(200);
    expect(ids(exact.body)[0]).toBe('T1059.003');
    const alias = await get('/api/v1/mitre/groups/?search=cozy').expect(200);
    expect(ids(alias.body)).toEqual(['G0016']);
    const odd = await get(
      `/api/v1/mitre/techniques/?search=${encodeURIComponent('power:(shell" OR ~ \\')}`,
    ).expect(200);
    // Lucene's operators are taken as text: the words power and shell, nothing else.
    expect(ids(odd.body).sort()).toEqual(['T1059', 'T1059.003']);
  });

  it('pages with limit and offset and relative next/previous links, whatever Host says', async () => {
    const first = await get('/api/v1/mitre/techniques/?limit=2')
      .set('Host', 'evil.example')
      .expect(200);
    expect(first.body.count).toBe(5);
    expect(ids(first.body)).toEqual(['T1059', 'T1059.001']);
    expect(first.body.previous).toBeNull();
    expect(first.body.next).toBe('/api/v1/mitre/techniques/?limit=2&offset=2');
    const next = new URL(first.body.next, 'http://base.invalid');
    expect(next.pathname).toBe('/api/v1/mitre/techniques/');
    expect(next.searchParams.get('offset')).toBe('2');
    const second = await get(`${next.pathname}${next.search}`).expect(200);
    expect(ids(second.body)).toEqual(['T1059.003', 'T1564']);
    expect(
      new URL(second.body.previous, 'http://base.invalid').searchParams.get('offset'),
    ).toBeNull();
    const last = await get('/api/v1/mitre/techniques/?limit=2&offset=4').expect(200);
    expect(last.body.next).toBeNull();
    const past = await get('/api/v1/mitre/techniques/?offset=50').expect(200);
    expect(past.body).toMatchObject({ count: 5, results: [] });
  });

  it.each([
    'limit=0',
    'limit=1001',
    'offset=-1',
    'limit=abc',
    'is_subtechnique=maybe',
    'domain=pre-attack',
    'modified_after=yesterday',
    'colour=blue',
  ])('rejects %s with a 400 problem naming the parameter', async (query) => {
    const r = await get(`/api/v1/mitre/techniques/?${query}`).expect(400);
    expect(r.type).toBe('application/problem+json');
    expect(r.body).toMatchObject({
      status: 400,
      title: 'Bad Request',
      instance: '/api/v1/mitre/techniques/',
    });
    expect(r.body.errors[0].path).toMatch(/query/);
  });

  it('answers the same with or without the trailing slash', async () => {
    const a = await get('/api/v1/mitre/techniques/?tactic=execution').expect(200);
    const b = await get('/api/v1/mitre/techniques?tactic=execution').expect(200);
    expect(b.body.results).toEqual(a.body.results);
    const c = await get('/api/v1/mitre/techniques/T1059').expect(200);
    expect(c.body.id).toBe('T1059');
  });

  it.each([
    ['groups', ['G0016']],
    ['software', ['S0002']],
    ['campaigns', ['C0024']],
    ['mitigations', ['M1042', 'M1049']],
    ['detection-strategies', ['DET0455']],
    ['analytics', ['AN1252']],
    ['data-components', ['DC0016', 'DC0032', 'DC0034', 'DC0064']],
    ['data-sources', []],
    ['matrices', ['enterprise-attack']],
  ])('lists %s', async (resource, expected) => {
    expect(ids((await get(`/api/v1/mitre/${resource}/`).expect(200)).body)).toEqual(expected);
  });

  it('filters software by type', async () => {
    expect(ids((await get('/api/v1/mitre/software/?software_type=tool').expect(200)).body)).toEqual(
      ['S0002'],
    );
    expect(
      (await get('/api/v1/mitre/software/?software_type=malware').expect(200)).body.count,
    ).toBe(0);
  });
});

describe('ATT&CK details', () => {
  it('answers a matrix with its columns: tactics in order, techniques and sub-techniques', async () => {
    const r = await get('/api/v1/mitre/matrices/enterprise-attack/').expect(200);
    const columns = r.body.columns as Array<{
      tactic: { id: string; shortname: string };
      techniques: Array<{ id: string; subtechniques: Array<{ id: string }> }>;
    }>;
    expect(
      columns.map((c) => [
        c.tactic.id,
        c.techniques.map((t) => `${t.id}[${t.subtechniques.map((s) => s.id).join(' ')}]`),
      ]),
    ).toEqual([
      // The fixture's matrix: T1064 (deprecated) and T1143 (revoked) are not drawn.
      ['TA0002', ['T1059[T1059.001 T1059.003]']],
      ['TA0003', []],
      ['TA0005', ['T1564[T1564.003]']],
    ]);
    expect(r.body).toMatchObject({ id: 'enterprise-attack', type: 'x-mitre-matrix' });
  });

  it('answers only the fields asked for, and says which exist', async () => {
    const full = await get('/api/v1/mitre/techniques/T1059.001/').expect(200);
    const sparse = await get(
      '/api/v1/mitre/techniques/T1059.001/?fields=id,name,kill_chain',
    ).expect(200);
    expect(sparse.body).toEqual({
      id: 'T1059.001',
      name: 'PowerShell',
      kill_chain: full.body.kill_chain,
    });
    expect(sparse.text.length).toBeLessThan(full.text.length / 3);
    const bad = await get('/api/v1/mitre/techniques/T1059.001/?fields=id,nope').expect(400);
    expect(bad.body.detail).toMatch(/no field nope here; fields are id, .*groups/);
    await get('/api/v1/mitre/techniques/T1059.001/?fields=ID;DROP').expect(400);
  });

  it('answers a technique by ATT&CK id and by STIX id alike', async () => {
    const a = await get('/api/v1/mitre/techniques/T1059.001/').expect(200);
    const b = await get(`/api/v1/mitre/techniques/${a.body.stix_id}/`).expect(200);
    expect(b.body).toEqual(a.body);
  });

  it('carries tactics, parent, mitigations, detections and users with their procedure text', async () => {
    const t = (await get('/api/v1/mitre/techniques/T1059.001/').expect(200)).body;
    expect(t.kill_chain).toEqual([
      expect.objectContaining({
        id: 'TA0002',
        shortname: 'execution',
        domain: 'enterprise-attack',
      }),
    ]);
    expect(t.parent).toMatchObject({ id: 'T1059', name: 'Command and Scripting Interpreter' });
    expect(t.subtechniques).toEqual([]);
    expect(t.mitigations.count).toBe(2);
    expect(t.mitigations.results.map((m: { object: { id: string } }) => m.object.id)).toEqual([
      'M1042',
      'M1049',
    ]);
    expect(t.detection_strategies).toMatchObject({
      count: 1,
      results: [{ object: { id: 'DET0455' } }],
    });
    expect(t.groups).toMatchObject({
      count: 1,
      results: [{ object: { id: 'G0016' }, description: expect.stringContaining('PowerShell') }],
    });
    expect(t.campaigns).toMatchObject({ count: 1, results: [{ object: { id: 'C0024' } }] });
    expect(t.software.count).toBe(0);
    expect(t.revoked_by).toBeNull();
  });

  it('lists the sub-techniques of a technique', async () => {
    const t = (await get('/api/v1/mitre/techniques/T1059/').expect(200)).body;
    expect(t.subtechniques.map((s: { id: string }) => s.id)).toEqual(['T1059.001', 'T1059.003']);
    expect(t.parent).toBeNull();
  });

  it('points a revoked technique at its replacement, and follows it on request', async () => {
    const r = (await get('/api/v1/mitre/techniques/T1143/').expect(200)).body;
    expect(r).toMatchObject({
      id: 'T1143',
      revoked: true,
      revoked_by: { id: 'T1564.003', revoked: false },
    });
    const f = (await get('/api/v1/mitre/techniques/T1143/?follow_revoked=true').expect(200)).body;
    expect(f).toMatchObject({ id: 'T1564.003', revoked: false, revoked_by: null });
  });

  it('serves the original STIX object unchanged with format=stix', async () => {
    const r = await get('/api/v1/mitre/groups/G0016/?format=stix').expect(200);
    const original = fixtureBundle().objects.find((o) => o.type === 'intrusion-set');
    expect(r.body).toEqual(original);
  });

  it('answers 404 problems for unknown ids and ids of another resource', async () => {
    const r = await get('/api/v1/mitre/techniques/T9999/').expect(404);
    expect(r.type).toBe('application/problem+json');
    expect(r.body).toMatchObject({ status: 404, detail: 'no technique with id T9999' });
    await get('/api/v1/mitre/tactics/T1059/').expect(404);
    await get('/api/v1/mitre/no-such-resource/').expect(404);
  });

  it.each([
    ['tactics', 'TA0003', { shortname: 'persistence' }],
    ['groups', 'G0016', { aliases: expect.arrayContaining(['Cozy Bear']) }],
    ['software', 'S0002', { software_type: 'tool', name: 'Mimikatz' }],
    ['campaigns', 'C0024', { first_seen: expect.any(String) }],
    ['mitigations', 'M1042', { revoked_by: null }],
    ['detection-strategies', 'DET0455', { type: 'x-mitre-detection-strategy' }],
    ['matrices', 'enterprise-attack', { type: 'x-mitre-matrix' }],
  ])('details %s/%s', async (resource, id, expected) => {
    expect((await get(`/api/v1/mitre/${resource}/${id}/`).expect(200)).body).toMatchObject({
      id,
      ...expected,
    });
  });
});

describe('relationships', () => {
  it('filters by type, source and target with both ends named', async () => {
    expect(
      (await get('/api/v1/mitre/relationships/?relationship_type=mitigates').expect(200)).body
        .count,
    ).toBe(5);
    const src = await get('/api/v1/mitre/relationships/?source=M1049').expect(200);
    expect(src.body.count).toBe(3);
    const tgt = await get(
      '/api/v1/mitre/relationships/?target=T1059.001&relationship_type=uses',
    ).expect(200);
    expect(tgt.body.results.map((r: { source: { id: string } }) => r.source.id).sort()).toEqual([
      'C0024',
      'G0016',
    ]);
    expect(tgt.body.results[0]).toMatchObject({
      relationship_type: 'uses',
      target: { id: 'T1059.001', name: 'PowerShell' },
    });
  });

  it('leaves relationships of revoked objects out unless asked', async () => {
    expect(
      (await get('/api/v1/mitre/relationships/?relationship_type=revoked-by').expect(200)).body
        .count,
    ).toBe(0);
    const r = await get(
      '/api/v1/mitre/relationships/?relationship_type=revoked-by&include_revoked=true',
    ).expect(200);
    expect(r.body.results).toEqual([
      expect.objectContaining({
        source: expect.objectContaining({ id: 'T1143' }),
        target: expect.objectContaining({ id: 'T1564.003' }),
      }),
    ]);
  });

  it('serves STIX relationships and one relationship by id', async () => {
    const page = await get('/api/v1/mitre/relationships/?source=G0016&format=stix').expect(200);
    expect(page.body.results.every((r: { type: string }) => r.type === 'relationship')).toBe(true);
    const id = page.body.results[0].id as string;
    expect((await get(`/api/v1/mitre/relationships/${id}/`).expect(200)).body).toMatchObject({
      stix_id: id,
      source: { id: 'G0016' },
    });
    expect((await get(`/api/v1/mitre/relationships/${id}/?format=stix`).expect(200)).body.id).toBe(
      id,
    );
    await get(
      '/api/v1/mitre/relationships/relationship--00000000-0000-4000-8000-000000000000/',
    ).expect(404);
    await get('/api/v1/mitre/relationships/not-an-id/').expect(400);
  });
});

describe('authentication', () => {
  it.each([
    ['no token', undefined, /a Bearer token is required/],
    ['a Basic header', 'Basic YWxpY2U6c2VjcmV0', /not a Bearer token/],
    ['garbage', 'Bearer not.a.jwt', /not valid/],
  ])('answers %s with 401 and a challenge', async (_name, header, detail) => {
    const req = request(api.app).get('/api/v1/mitre/tactics/');
    const r = await (header ? req.set('Authorization', header) : req).expect(401);
    expect(r.headers['www-authenticate']).toMatch(/^Bearer realm="ttpgraph"/);
    expect(r.body.detail).toMatch(detail);
  });

  it('rejects a token signed with another secret, an expired one, one without subject', async () => {
    for (const t of [
      await token({ secret: 'another-secret-another-secret-another' }),
      await token({ expiresIn: -3600 }),
      await token({ sub: '' }),
    ]) {
      await request(api.app)
        .get('/api/v1/mitre/tactics/')
        .set('Authorization', `Bearer ${t}`)
        .expect(401);
    }
  });

  it('forbids a tenant the token does not carry', async () => {
    const r = await get('/api/v1/mitre/tactics/').set('X-Tenant', 'globex').expect(403);
    expect(r.body.detail).toMatch(/tenant globex/);
    await get('/api/v1/mitre/tactics/').set('X-Tenant', 'acme').expect(200);
  });

  it('forbids a token with no role', async () => {
    const t = await token({ sub: 'nobody', tenant: 'acme' });
    await request(api.app)
      .get('/api/v1/mitre/tactics/')
      .set('Authorization', `Bearer ${t}`)
      .expect(403);
  });
});

describe('service routes', () => {
  it('serves health, readiness, metrics, the contract and its docs', async () => {
    expect((await request(api.app).get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
    expect((await request(api.app).get('/readyz').expect(200)).body.status).toBe('ok');
    await get('/api/v1/mitre/tactics/').expect(200);
    const m = await request(api.app).get('/metrics').expect(200);
    expect(m.text).toMatch(
      /ttpgraph_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/mitre\/tactics\/",status="200"\}/,
    );
    expect(m.text).toMatch(
      /ttpgraph_neo4j_query_duration_seconds_count\{query="attack\/api-list",mode="READ"\}/,
    );
    expect(m.text).toMatch(
      /ttpgraph_attack_version_info\{domain="enterprise-attack",version="18.1"\} 1/,
    );
    expect(m.text).toMatch(/ttpgraph_attack_objects\{type="attack-pattern",state="active"\} 5/);
    const spec = await request(api.app).get('/api/v1/mitre/openapi.yaml').expect(200);
    expect(spec.text).toMatch(/^openapi: 3\.0\.3$/m);
    await request(api.app).get('/api/v1/mitre/docs/').expect(200).expect('content-type', /html/);
  });

  it('echoes the request id', async () => {
    const r = await get('/api/v1/mitre/tactics/').set('x-request-id', 'abc-123').expect(200);
    expect(r.headers['x-request-id']).toBe('abc-123');
    const e = await get('/api/v1/mitre/techniques/T9999/').expect(404);
    expect(e.body.request_id).toBe(e.headers['x-request-id']);
  });
});
