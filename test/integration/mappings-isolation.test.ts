import fc from 'fast-check';
import request from 'supertest';
import type { Graph } from '../../src/shared/neo4j';
import { fixtureApp, type TestApi, token } from '../support/api';

// Tenant isolation as a property: random tenants, users, roles, entities and mappings (one by one
// or in bulk); every cross-tenant read, list, count, update, delete, id probe (of any kind), entity
// trail and X-Tenant naming another tenant must leak nothing.
const RUNS = Number(process.env.ISOLATION_RUNS ?? 25);

let graph: Graph;
let api: TestApi;

beforeAll(async () => {
  ({ graph, api } = await fixtureApp());
});
afterAll(async () => {
  await api.close();
  await graph.close();
});

const KINDS = ['alert', 'incident', 'observable'] as const;
const ID_FIELD = {
  alert: 'alert_id',
  incident: 'incident_id',
  observable: 'observable_id',
} as const;
const TECHNIQUES = ['T1059', 'T1059.001', 'T1059.003', 'T1564', 'T1564.003'];

const user = fc.record({
  tenant: fc.constantFrom('t1', 't2', 't3'),
  name: fc.constantFrom('u1', 'u2', 'u3'),
  role: fc.constantFrom('admin', 'analyst'),
});
const mapping = fc.record({
  by: user,
  kind: fc.constantFrom(...KINDS),
  // Entity ids collide across tenants on purpose: the same id in two tenants is two entities.
  entity: fc.constantFrom('E-1', 'E-2', 'E-3'),
  technique: fc.constantFrom(...TECHNIQUES),
  confidence: fc.integer({ min: 0, max: 100 }),
  bulk: fc.boolean(),
});

describe('tenant isolation', () => {
  it('no tenant ever sees, counts, changes or deletes another tenant’s mappings', async () => {
    let cases = 0;
    let probes = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(mapping, { minLength: 1, maxLength: 6 }),
        user,
        async (mappings, prober) => {
          cases++;
          await graph.write(
            'MATCH (n) WHERE n:Mapping OR n:MappingEvent OR n:EntityEvent OR n:Alert OR n:Incident OR n:Observable DETACH DELETE n',
          );
          const created: Array<{
            id: string;
            tenant: string;
            kind: (typeof KINDS)[number];
            entity: string;
          }> = [];
          for (const m of mappings) {
            const jwt = await token({ sub: m.by.name, tenant: m.by.tenant, roles: [m.by.role] });
            const item = {
              [ID_FIELD[m.kind]]: m.entity,
              technique: m.technique,
              confidence: m.confidence,
            };
            const r = await request(api.app)
              .post(`/api/v1/mitre/${m.kind}-mappings/${m.bulk ? 'bulk/' : ''}`)
              .set('Authorization', `Bearer ${jwt}`)
              .send(m.bulk ? { items: [item, item] } : item);
            expect([200, 201]).toContain(r.status);
            const id = m.bulk ? r.body.results[0].id : r.body.id;
            created.push({ id, tenant: m.by.tenant, kind: m.kind, entity: m.entity });
          }
          const auth = `Bearer ${await token({ sub: prober.name, tenant: prober.tenant, roles: [prober.role] })}`;
          const call = (method: 'get' | 'patch' | 'delete', path: string, body?: object) => {
            probes++;
            const req = request(api.app)[method](`/api/v1/mitre${path}`).set('Authorization', auth);
            return body ? req.send(body) : req;
          };
          for (const c of created.filter((x) => x.tenant !== prober.tenant)) {
            expect((await call('get', `/${c.kind}-mappings/${c.id}/`)).status).toBe(404);
            expect((await call('get', `/${c.kind}-mappings/${c.id}/events/`)).status).toBe(404);
            expect(
              (await call('patch', `/${c.kind}-mappings/${c.id}/`, { confidence: 1 })).status,
            ).toBe(404);
            expect((await call('delete', `/${c.kind}-mappings/${c.id}/`)).status).toBe(404);
          }
          // An id of the prober's own tenant, asked for as another kind, is not found either.
          for (const c of created.filter((x) => x.tenant === prober.tenant)) {
            for (const other of KINDS.filter((k) => k !== c.kind))
              expect((await call('get', `/${other}-mappings/${c.id}/`)).status).toBe(404);
          }
          // Entities the prober's tenant never had: no trail, whatever the id.
          for (const kind of KINDS)
            for (const entity of ['E-1', 'E-2', 'E-3']) {
              const mine = created.some(
                (x) => x.tenant === prober.tenant && x.kind === kind && x.entity === entity,
              );
              expect((await call('get', `/${kind}s/${entity}/events/`)).status).toBe(
                mine ? 200 : 404,
              );
            }
          // Naming another tenant is refused, not answered with its data.
          for (const other of ['t1', 't2', 't3'].filter((t) => t !== prober.tenant)) {
            probes++;
            const r = await request(api.app)
              .get('/api/v1/mitre/alert-mappings/')
              .set('Authorization', auth)
              .set('X-Tenant', other);
            expect(r.status).toBe(403);
          }
          for (const kind of KINDS) {
            const own = new Set(
              created.filter((x) => x.tenant === prober.tenant && x.kind === kind).map((x) => x.id),
            );
            const list = await call('get', `/${kind}-mappings/?limit=1000`);
            expect(list.body.count).toBe(own.size);
            expect(new Set(list.body.results.map((r: { id: string }) => r.id))).toEqual(own);
            for (const entity of ['E-1', 'E-2', 'E-3']) {
              const byEntity = await call(
                'get',
                `/${kind}-mappings/?${ID_FIELD[kind]}=${entity}&technique=T1059&include_subtechniques=true`,
              );
              for (const r of byEntity.body.results as Array<{ id: string }>)
                expect(own.has(r.id)).toBe(true);
            }
          }
          // Nothing a prober did touched another tenant's data.
          const [left] = await graph.read<{ n: number }>('MATCH (m:Mapping) RETURN count(m) AS n');
          expect(left!.n).toBe(new Set(created.map((c) => c.id)).size);
        },
      ),
      { numRuns: RUNS },
    );
    process.stdout.write(`tenant isolation: ${cases} cases, ${probes} cross-tenant probes\n`);
  });
});
