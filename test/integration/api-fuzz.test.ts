import fc from 'fast-check';
import request from 'supertest';
import type { Graph } from '../../src/shared/neo4j';
import { analyst, fixtureApp, superuser, type TestApi, token } from '../support/api';

// Malformed input thrown at every route: the answer is always a 2xx/3xx or a 4xx problem+json,
// never a 5xx. Network fetches are confined to a closed loopback port.
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

let graph: Graph;
let api: TestApi;
let tokens: string[];

beforeAll(async () => {
  ({ graph, api } = await fixtureApp({
    TTPGRAPH_JSON_BODY_LIMIT: '4096',
    TTPGRAPH_UPLOAD_LIMIT: '65536',
  }));
  tokens = [
    await analyst(),
    await superuser(),
    await token({ expiresIn: -10 }),
    await token({ sub: 'x', roles: ['viewer'], tenants: ['a', 'b'] }),
  ];
});
afterAll(async () => {
  await api.close();
  await graph.close();
});

const RESOURCES = [
  'tactics',
  'techniques',
  'mitigations',
  'groups',
  'software',
  'campaigns',
  'data-sources',
  'data-components',
  'detection-strategies',
  'analytics',
  'matrices',
  'relationships',
];
const PARAMS = [
  'limit',
  'offset',
  'domain',
  'platform',
  'tactic',
  'is_subtechnique',
  'parent',
  'software_type',
  'include_revoked',
  'include_deprecated',
  'search',
  'modified_after',
  'format',
  'follow_revoked',
  'relationship_type',
  'source',
  'target',
];

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    'true',
    '0',
    '-1',
    '1e9',
    'T1059',
    'TA0002',
    'null',
    '[]',
    '%',
    '%zz',
    '../..',
    '\u0000',
    '2025-01-01T00:00:00Z',
  ),
);
const query = fc.array(
  fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 10 })), text),
  { maxLength: 5 },
);
const path = fc.oneof(
  fc.constantFrom(...RESOURCES).map((r) => `/api/v1/mitre/${r}/`),
  fc
    .tuple(
      fc.constantFrom(...RESOURCES),
      fc.oneof(
        text,
        fc.constantFrom(
          'T1059.001',
          'G0016',
          'attack-pattern--00000000-0000-4000-8000-000000000000',
        ),
      ),
    )
    .map(([r, id]) => `/api/v1/mitre/${r}/${encodeURIComponent(id)}/`),
  fc.constantFrom(
    '/api/v1/mitre/status/',
    '/api/v1/mitre/',
    '/api/v1/mitre/imports/',
    '/healthz',
    '/readyz',
  ),
);
const authHeader = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: 0, max: 3 }).map((i) => `Bearer ${tokens[i]}`),
  text.map((t) => `Bearer ${t}`),
  text,
);

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '');
}

function qs(pairs: Array<[string, string]>): string {
  return pairs.length === 0
    ? ''
    : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

function checkAnswer(r: request.Response): void {
  // 502 is the one 5xx a correct server gives here: a superuser's import of an unreachable source.
  if (r.status === 502) {
    expect(r.body.type).toBe('https://ttpgraph.dev/problems/source-unavailable');
    return;
  }
  expect(r.status).toBeLessThan(500);
  if (r.status >= 400) {
    expect(r.type).toBe('application/problem+json');
    expect(r.body.status).toBe(r.status);
    expect(typeof r.body.title).toBe('string');
  }
}

describe('malformed requests', () => {
  it('GET with random paths, query strings and headers never answers 5xx', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(path, query, authHeader, fc.option(text), async (p, q, authz, tenant) => {
        runs++;
        let req = request(api.app).get(`${p}${qs(q)}`);
        // HTTP clients cannot send control characters in headers: only printable ASCII goes out.
        if (authz !== undefined) req = req.set('Authorization', printable(authz));
        if (tenant !== null) req = req.set('X-Tenant', printable(tenant));
        checkAnswer(await req);
      }),
      { numRuns: RUNS },
    );
    process.stdout.write(`fuzz GET: ${runs} cases\n`);
  });

  it('POST /imports/ with random bodies and media types never answers 5xx', async () => {
    const body = fc.oneof(
      fc.json({ maxDepth: 3 }).map((j) => ({ type: 'application/json', data: j })),
      fc
        .record({
          url: fc.constantFrom(
            'http://127.0.0.1:1/x.json',
            'ftp://x',
            'file:///etc/passwd',
            'not a url',
          ),
          force: fc.anything(),
        })
        .map((o) => ({ type: 'application/json', data: JSON.stringify(o) })),
      fc
        .uint8Array({ maxLength: 2048 })
        .map((b) => ({ type: 'application/gzip', data: Buffer.from(b) })),
      fc.string({ maxLength: 200 }).map((s) => ({ type: 'application/stix+json', data: s })),
      fc
        .tuple(
          fc.constantFrom(
            'text/plain',
            'application/xml',
            'multipart/form-data',
            'application/x-www-form-urlencoded',
          ),
          fc.string({ maxLength: 50 }),
        )
        .map(([type, data]) => ({ type, data })),
    );
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(body, fc.integer({ min: 0, max: 3 }), query, async (b, who, q) => {
        runs++;
        const r = await request(api.app)
          .post(`/api/v1/mitre/imports/${qs(q)}`)
          .set('Authorization', `Bearer ${tokens[who]}`)
          .set('Content-Type', b.type)
          .send(b.data as string);
        checkAnswer(r);
      }),
      { numRuns: RUNS },
    );
    process.stdout.write(`fuzz POST: ${runs} cases\n`);
    // Nothing the fuzzer sent may have touched the data.
    const [n] = await graph.read<{ n: number }>('MATCH (t:Technique) RETURN count(t) AS n');
    expect(n!.n).toBe(7);
  });

  it('other methods on every route answer 405 or 404 problems', async () => {
    for (const method of ['put', 'patch', 'delete'] as const) {
      for (const r of RESOURCES) {
        const res = await request(api.app)
          [method](`/api/v1/mitre/${r}/`)
          .set('Authorization', `Bearer ${tokens[0]}`);
        expect([404, 405]).toContain(res.status);
        expect(res.type).toBe('application/problem+json');
      }
    }
  });
});
