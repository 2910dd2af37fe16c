import fc from 'fast-check';
import request from 'supertest';
import type { Graph } from '../../src/shared/neo4j';
import { fixtureApp, type TestApi, token } from '../support/api';

// Tenant isolation as a property: random tenants, users, roles, entities and mappings; every
// cross-tenant read, list, count, update, delete and id probe must leak nothing.
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
            'MATCH (n) WHERE n:Mapping OR n:MappingEvent OR n:Alert OR n:Incident OR n:Observable DETACH DELETE n',
          );
          const created: Array<{
            id: string;
            tenant: string;
            kind: (typeof KINDS)[number];
            entity: string;
          }> = [];
          for (const m of mappings) {
            const jwt = await token({ sub: m.by.name, tenant: m.by.tenant, roles: [m.by.role] });
            const r = await request(api.app)
              .post(`/api/v1/mitre/${m.kind}-mappings/`)
              .set('Authorization', `Bearer ${jwt}`)
              .send({
                [ID_FIELD[m.kind]]: m.entity,
                technique: m.technique,
                confidence: m.confidence,
              });
            expect([200, 201]).toContain(r.status);
            created.push({ id: r.body.id, tenant: m.by.tenant, kind: m.kind, entity: m.entity });
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
