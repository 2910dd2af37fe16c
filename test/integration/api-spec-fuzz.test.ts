import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import request from 'supertest';
import type { Graph } from '../../src/shared/neo4j';
import { fixtureApp, token, type TestApi } from '../support/api';
import { Contract, type Operation, type Schema } from '../support/contract';
import { granted } from '../support/grants';

// Requests generated from openapi.yaml for every operation: values at and past every bound,
// date-times the calendar refuses, repeated parameters, X-Tenant, content encodings, empty and
// null bodies, and tokens whose claims are drawn as an attacker would. Oracles, for every case:
// no 5xx, an answer the contract documents (status, media type, schema), no 2xx the caller's
// roles and tenants do not grant, and a PATCH that changes exactly the fields it sends.
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const contract = new Contract();

let graph: Graph;
let api: TestApi;

interface Caller {
  auth: string | undefined;
  roles: string[];
  superuser: boolean;
  tenants: string[];
}
let callers: Caller[];
const ids = { acme: [] as string[], globex: [] as string[] };

const BAD_DATES = [
  '2024-02-30T00:00:00Z',
  '2024-13-01T00:00:00Z',
  '2024-01-01T00:00:00+19:00',
  '2024-01-01T24:00:00Z',
  '2016-12-31T23:59:60Z',
  '2024-01-01T00:00:00.1234567890123Z',
  '2024-01-01',
  '2024-01-01t00:00:00z',
];
const GOOD_DATES = [
  '2025-01-01T00:00:00Z',
  '2024-02-29T23:59:59.999+05:30',
  '1970-01-01T00:00:00Z',
];

beforeAll(async () => {
  ({ graph, api } = await fixtureApp());
  // Claims drawn as an attacker would: subjects named like roles, unknown and namespaced roles,
  // a superuser claim that is not exactly true, several tenants.
  const specs: Array<{ sub: string; roles: string[]; tenants: string[]; superuser?: boolean }> = [
    { sub: 'superuser', roles: [], tenants: ['acme'] },
    { sub: 'admin', roles: ['viewer'], tenants: ['acme'] },
    { sub: 'alice', roles: ['analyst'], tenants: ['acme'] },
    { sub: 'ada', roles: ['admin'], tenants: ['acme'] },
    { sub: 'vic', roles: ['viewer', 'hacker', 'role:admin', 'Superuser'], tenants: ['acme'] },
    { sub: 'multi', roles: ['analyst'], tenants: ['acme', 'globex'] },
    { sub: 'gina', roles: ['admin'], tenants: ['globex'] },
    { sub: 'mallory', roles: ['superuser'], tenants: [] },
    { sub: 'root', roles: [], tenants: [], superuser: true },
  ];
  callers = [
    { auth: undefined, roles: [], superuser: false, tenants: [] },
    { auth: 'Bearer not-a-token', roles: [], superuser: false, tenants: [] },
    ...(await Promise.all(
      specs.map(async (s) => ({
        auth: `Bearer ${await token({ sub: s.sub, roles: s.roles, tenants: s.tenants, superuser: s.superuser })}`,
        roles: s.roles.filter((r) => ['viewer', 'analyst', 'admin'].includes(r)),
        superuser: s.superuser === true,
        tenants: s.tenants,
      })),
    )),
  ];
  // Mappings of each kind in two tenants: ids of another tenant and of another kind are drawn.
  for (const [tenant, sub] of [
    ['acme', 'alice'],
    ['globex', 'gina'],
  ] as const) {
    const auth = `Bearer ${await token({ sub, tenant, roles: ['admin'] })}`;
    for (const [kind, field] of [
      ['alert', 'alert_id'],
      ['incident', 'incident_id'],
      ['observable', 'observable_id'],
    ]) {
      const r = await request(api.app)
        .post(`/api/v1/mitre/${kind}-mappings/`)
        .set('Authorization', auth)
        .send({
          [field as string]: `fz-${kind}`,
          technique: 'T1059.001',
          source: 'rule',
          confidence: 70,
        });
      ids[tenant].push(r.body.id as string);
    }
  }
});
afterAll(async () => {
  await api.close();
  await graph.close();
});

// Fields whose meaningful values a random string would almost never hit.
const KNOWN: Record<string, string[]> = {
  technique: [
    'T1059.001',
    'T1059',
    'T1566',
    'T1064',
    'T9999',
    'attack-pattern--970a3432-3237-47ad-bcca-7d8cbb217736',
  ],
  tactic: ['execution', 'initial-access', 'defense-evasion', 'TA0002', 'nope'],
};

/** Values for a schema: mostly valid, some at and past its bounds, some of the wrong type. */
function valueOf(schema: Schema | undefined, depth = 0, name = ''): fc.Arbitrary<unknown> {
  const s = contract.deref<Schema>(schema ?? {});
  const wrong = fc.constantFrom<unknown>(null, '', 'x', -1, 1.5, true, [], {});
  if (depth > 3) return wrong;
  let right: fc.Arbitrary<unknown>;
  const known = KNOWN[name];
  if (known && s.type === 'string') right = fc.constantFrom(...known);
  else if (Array.isArray(s.enum)) right = fc.constantFrom(...(s.enum as unknown[]));
  else if (s.format === 'date-time')
    right = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...GOOD_DATES) },
      { weight: 1, arbitrary: fc.constantFrom(...BAD_DATES) },
    );
  else if (s.format === 'uuid')
    right = fc.oneof(fc.uuid(), fc.constantFrom(...ids.acme, ...ids.globex));
  else if (s.type === 'integer' || s.type === 'number') {
    const min = (s.minimum as number | undefined) ?? -5;
    const max = (s.maximum as number | undefined) ?? 10_000;
    right = fc.oneof(
      fc.integer({ min, max: Math.min(max, min + 1_000_000) }),
      fc.constantFrom(min - 1, min, max, max + 1, 2 ** 53, -(2 ** 53)),
    );
  } else if (s.type === 'boolean') right = fc.boolean();
  else if (s.type === 'string') {
    const max = Math.min((s.maxLength as number | undefined) ?? 64, 64);
    right = fc.oneof(
      fc.constantFrom('T1059.001', 'T1059', 'execution', 'acme', 'https://127.0.0.1:1/x.json'),
      fc.string({ minLength: (s.minLength as number | undefined) ?? 0, maxLength: max }),
    );
  } else if (s.type === 'array') {
    right = fc.array(valueOf(s.items as Schema, depth + 1), {
      maxLength: Math.min((s.maxItems as number | undefined) ?? 3, 3),
    });
  } else if (s.type === 'object' || s.properties) {
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const required = new Set((s.required as string[] | undefined) ?? []);
    right = fc
      .record(
        Object.fromEntries(
          Object.entries(props).map(([k, v]) => [k, valueOf(v, depth + 1, k)] as const),
        ),
        { requiredKeys: [] },
      )
      .chain((o) =>
        fc.integer({ min: 0, max: 9 }).map((dice) => {
          const keepRequired = dice > 0;
          if (!keepRequired) return o;
          for (const k of required) if (!(k in o)) (o as Record<string, unknown>)[k] = 'T1059';
          return o;
        }),
      );
  } else right = fc.jsonValue({ maxDepth: 2 });
  return fc.oneof({ weight: 14, arbitrary: right }, { weight: 1, arbitrary: wrong });
}

/** A query value as text, as a client sends it (booleans in django-filter's spellings too). */
function queryText(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

interface Case {
  op: Operation;
  url: string;
  caller: Caller;
  tenant: string | null;
  body:
    | { kind: 'none' }
    | { kind: 'json'; value: unknown; encoding: string }
    | { kind: 'raw'; text: string };
}

const caseOf = (op: Operation): fc.Arbitrary<Case> => {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  // Ids that exist (in this tenant, another one, of another kind) mostly; fresh and odd ones too.
  const known = /mapping/.test(op.operationId)
    ? [...ids.acme, ...ids.globex]
    : ['T1059.001', 'TA0002', 'G0016', 'enterprise-attack@18.1'];
  const idValue = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...known) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) },
  );
  // Mostly the operation's own parameters (repeated at times); now and then an unknown one, or
  // a boolean in another spelling.
  const own = queryParams.map((p) =>
    fc.tuple(fc.constant(p.name), valueOf(p.schema, 0, p.name).map(queryText)),
  );
  const noise = fc.oneof(
    fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })),
    fc.tuple(
      fc.constantFrom(...queryParams.map((p) => p.name), 'limit'),
      fc.constantFrom('1', '0', 'True', 'False'),
    ),
  );
  const query = fc.array(
    own.length > 0
      ? fc.oneof({ weight: 12, arbitrary: fc.oneof(...own) }, { weight: 1, arbitrary: noise })
      : noise,
    { maxLength: own.length > 0 ? 4 : 1 },
  );
  const quiet =
    own.length > 0
      ? query
      : fc.oneof({ weight: 10, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: query });
  const jsonBody = op.requestBody?.content['application/json']?.schema;
  const body: fc.Arbitrary<Case['body']> = op.requestBody
    ? fc.oneof(
        {
          weight: 6,
          arbitrary: valueOf(jsonBody).chain((value) =>
            fc
              .constantFrom('identity', 'identity', 'gzip', 'gzip-lie', 'br-lie')
              .map((encoding) => ({ kind: 'json' as const, value, encoding })),
          ),
        },
        { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom('', 'null', '{', '[]', '"x"', '{"a":')
            .map((text) => ({ kind: 'raw' as const, text })),
        },
      )
    : fc.constant({ kind: 'none' as const });
  return fc.record({
    op: fc.constant(op),
    url: fc
      .tuple(
        fc.array(idValue, { minLength: pathParams.length, maxLength: pathParams.length }),
        quiet,
      )
      .map(([values, q]) => {
        let i = 0;
        const p = op.template.replace(/\{[^}]+\}/g, () => encodeURIComponent(String(values[i++])));
        const qs = new URLSearchParams(q as Array<[string, string]>).toString();
        return qs ? `${p}?${qs}` : p;
      }),
    caller: fc.integer({ min: 0, max: callers.length - 1 }).map((i) => callers[i] as Caller),
    tenant: fc.option(fc.constantFrom('acme', 'globex', '*', 'nobody'), { freq: 3 }),
    body,
  });
};

/**
 * The permission an operation needs (by hand, from README's table): null when public, none ([])
 * when any valid token will do.
 */
function permissionOf(op: Operation): string[] | null {
  const id = op.operationId;
  if (['get_openapi', 'get_health', 'get_readiness', 'get_metrics'].includes(id)) return null;
  if (id === 'get_caller') return [];
  if (id === 'get_status') return ['status:read'];
  if (id === 'create_import') return ['imports:create'];
  if (id === 'create_sync_run') return ['sync:create'];
  if (id === 'list_sync_runs' || id === 'get_sync_run') return ['sync:read'];
  if (/mapping|_events$|mapping_changes/.test(id)) {
    if (id.startsWith('create_') || id.startsWith('bulk_')) return ['mappings:create'];
    if (id.startsWith('update_')) return ['mappings:update-own', 'mappings:update-any'];
    if (id.startsWith('delete_')) return ['mappings:delete-own', 'mappings:delete-any'];
    return ['mappings:read'];
  }
  return ['attack:read'];
}

async function send(c: Case): Promise<request.Response> {
  let req = request(api.app)[c.op.method as 'get'](c.url);
  if (c.caller.auth) req = req.set('Authorization', c.caller.auth);
  if (c.tenant !== null) req = req.set('X-Tenant', c.tenant);
  if (c.body.kind === 'raw') return req.set('Content-Type', 'application/json').send(c.body.text);
  if (c.body.kind === 'json') {
    const text = JSON.stringify(c.body.value) ?? 'null';
    req = req.set('Content-Type', 'application/json');
    // serialize: superagent would otherwise turn a Buffer into JSON of its bytes.
    if (c.body.encoding === 'gzip')
      return req
        .set('Content-Encoding', 'gzip')
        .serialize((b: unknown) => b as string)
        .send(gzipSync(text));
    if (c.body.encoding === 'gzip-lie') return req.set('Content-Encoding', 'gzip').send(text);
    if (c.body.encoding === 'br-lie') return req.set('Content-Encoding', 'br').send(text);
    return req.send(text);
  }
  return req;
}

// Writes are a quarter of the operations but where most bugs were: drawn four times as often.
const operation = fc.oneof(
  ...contract.operations.map((op) => ({
    weight: op.method === 'get' ? 1 : 4,
    arbitrary: fc.constant(op),
  })),
);

describe('every operation of openapi.yaml, generated', () => {
  it('answers by the contract, never 5xx, never beyond what the caller is granted', async () => {
    const statuses = new Map<number, number>();
    const writes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(operation.chain(caseOf), async (c) => {
        const before = c.op.method === 'patch' ? await mappingNow(c.op.template, c.url) : undefined;
        const r = await send(c);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status < 300 && c.op.method !== 'get')
          writes.set(c.op.method, (writes.get(c.op.method) ?? 0) + 1);
        const label = `${c.op.method.toUpperCase()} ${c.url} (${JSON.stringify(c.body).slice(0, 120)})`;
        // The one 5xx a correct server gives here: POST sync/ where no scheduler runs.
        if (r.status >= 500)
          expect(`${label} → ${r.status} ${r.text.slice(0, 200)}`).toMatch(/→ 501 /);
        expect(contract.check(c.op.method, c.url, r)).toEqual([]);
        if (r.status < 300) {
          const needs = permissionOf(c.op);
          if (needs !== null) {
            const allowed =
              needs.length === 0 ||
              needs.some((p) => granted(c.caller.roles, c.caller.superuser, p));
            expect(`${label}: ${allowed}`).toBe(`${label}: true`);
            if (c.tenant !== null && !c.caller.superuser)
              expect(c.caller.tenants).toContain(c.tenant);
          }
          if (before && c.body.kind === 'json') patchedExactly(before, r.body, c.body.value);
        }
      }),
      { numRuns: RUNS },
    );
    process.stdout.write(
      `spec fuzz: ${RUNS} cases, statuses ${JSON.stringify([...statuses].sort())}, successful writes ${JSON.stringify([...writes])}\n`,
    );
    // The generator must reach the successful paths too, or the oracles above check nothing.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
  });
});

describe('PATCH', () => {
  it('changes exactly the fields it sends, whatever they are', async () => {
    const admin = `Bearer ${await token({ sub: 'ada', tenant: 'acme', roles: ['admin'] })}`;
    const created = await request(api.app)
      .post('/api/v1/mitre/alert-mappings/')
      .set('Authorization', admin)
      .send({
        alert_id: 'fz-patch',
        technique: 'T1059.001',
        tactic: 'execution',
        source: 'rule',
        confidence: 80,
        procedure: 'first',
        occurred_at: '2025-01-01T00:00:00Z',
      })
      .expect(201);
    const url = `/api/v1/mitre/alert-mappings/${created.body.id}/`;
    const patch = fc
      .record(
        {
          source: fc.constantFrom('manual', 'rule', 'enrichment', 'auto'),
          confidence: fc.integer({ min: 0, max: 100 }),
          procedure: fc.option(fc.string({ maxLength: 30 }), { freq: 3 }),
          occurred_at: fc.constantFrom(...GOOD_DATES),
        },
        { requiredKeys: [] },
      )
      .filter((p) => Object.keys(p).length > 0);
    await fc.assert(
      fc.asyncProperty(patch, async (p) => {
        const before = (await request(api.app).get(url).set('Authorization', admin)).body;
        const r = await request(api.app).patch(url).set('Authorization', admin).send(p);
        expect(r.status).toBe(200);
        expect(contract.check('patch', url, r)).toEqual([]);
        patchedExactly(before, r.body, p);
        for (const [k, v] of Object.entries(p)) {
          const got = r.body[k];
          if (k === 'occurred_at') expect(Date.parse(got)).toBe(Date.parse(v as string));
          else expect({ [k]: got }).toEqual({ [k]: v });
        }
      }),
      { numRuns: Math.max(20, Math.round(RUNS / 10)) },
    );
  });
});

/** The mapping a PATCH is about, read by a superuser in every tenant it may be in. */
async function mappingNow(
  template: string,
  url: string,
): Promise<Record<string, unknown> | undefined> {
  const id = decodeURIComponent(url.split('?')[0]?.split('/').slice(-2)[0] ?? '');
  const root = `Bearer ${await token({ sub: 'root', superuser: true })}`;
  for (const tenant of ['acme', 'globex']) {
    const r = await request(api.app)
      .get(template.replace('{id}', encodeURIComponent(id)))
      .set('Authorization', root)
      .set('X-Tenant', tenant);
    if (r.status === 200) return r.body as Record<string, unknown>;
  }
  return undefined;
}

function patchedExactly(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  sent: unknown,
): void {
  const fields = new Set(Object.keys(sent as object));
  const derived = ['updated_at', 'technique', 'stale', 'original_technique_id', 'tactic'];
  for (const [k, v] of Object.entries(before)) {
    if (fields.has(k) || derived.includes(k)) continue;
    expect({ [k]: after[k] }).toEqual({ [k]: v });
  }
}
