import fc from 'fast-check';
import request from 'supertest';
import { appSuite, token } from '../support/api';

// Entity access as a property: random worlds of incidents, alerts and observables (random parent
// links, visibilities, owners, read and edit groups), each mapped once; for random users (groups,
// roles, sometimes a superuser) every list, count, detail, trail, kill chain and dashboard total
// must be exactly what a simple model of the rule allows. ACCESS_WORLDS raises the count.
const WORLDS = Number(process.env.ACCESS_WORLDS ?? 100);
const API = '/api/v1/mitre';
const suite = appSuite({ fixture: true });

const KINDS = ['incident', 'alert', 'observable'] as const;
type Kind = (typeof KINDS)[number];
const GROUPS = ['red', 'blue', 'green'];
const USERS = ['u1', 'u2', 'u3'];

const access = fc.record({
  restricted: fc.boolean(),
  owner: fc.option(fc.constantFrom(...USERS), { nil: null }),
  read: fc.subarray(GROUPS),
  edit: fc.subarray(GROUPS),
});
const world = fc.record({
  incidents: fc.array(access, { minLength: 1, maxLength: 3 }),
  alerts: fc.array(fc.record({ access, incident: fc.option(fc.nat(2), { nil: null }) }), {
    maxLength: 4,
  }),
  observables: fc.array(
    fc.record({
      access,
      alert: fc.option(fc.nat(3), { nil: null }),
      incident: fc.option(fc.nat(2), { nil: null }),
    }),
    { maxLength: 4 },
  ),
});
const viewer = fc.record({
  sub: fc.constantFrom(...USERS),
  groups: fc.subarray(GROUPS),
  role: fc.constantFrom('viewer', 'analyst'),
  superuser: fc.boolean(),
});

type Access = { restricted: boolean; owner: string | null; read: string[]; edit: string[] };
interface Entity {
  kind: Kind;
  id: string;
  access: Access;
  parents: string[];
}
type Viewer = { sub: string; groups: string[]; superuser: boolean };

/** The rule, simply: an entity and everything it is part of must each be open to the viewer. */
function visible(e: Entity, all: Map<string, Entity>, v: Viewer): boolean {
  const self =
    v.superuser ||
    !e.access.restricted ||
    e.access.owner === v.sub ||
    [...e.access.read, ...e.access.edit].some((g) => v.groups.includes(g));
  return self && e.parents.every((p) => visible(all.get(p) as Entity, all, v));
}

const wire = (a: Access) => ({
  visibility: a.restricted ? 'restricted' : 'tenant',
  owner: a.owner,
  read_groups: a.read,
  edit_groups: a.edit,
});

describe('entity access', () => {
  it('shows each user exactly what the rule allows, in every list, count, detail and report', async () => {
    const root = await token({ sub: 'root', superuser: true });
    let checks = 0;
    await fc.assert(
      fc.asyncProperty(
        world,
        fc.array(viewer, { minLength: 3, maxLength: 3 }),
        async (w, viewers) => {
          await suite.graph.write(
            'MATCH (n) WHERE n:Alert OR n:Incident OR n:Observable OR n:Mapping OR n:MappingEvent OR n:EntityEvent DETACH DELETE n',
          );
          const entities = new Map<string, Entity>();
          const incidents = w.incidents.map((a, i) => ({
            kind: 'incident' as const,
            id: `I${i}`,
            access: a,
            parents: [],
          }));
          const alerts = w.alerts.map((a, i) => {
            const incident =
              a.incident !== null && a.incident < incidents.length ? `I${a.incident}` : null;
            return {
              kind: 'alert' as const,
              id: `A${i}`,
              access: a.access,
              parents: incident ? [incident] : [],
            };
          });
          const observables = w.observables.map((o, i) => {
            const alert = o.alert !== null && o.alert < alerts.length ? `A${o.alert}` : null;
            const incident =
              o.incident !== null && o.incident < incidents.length ? `I${o.incident}` : null;
            return {
              kind: 'observable' as const,
              id: `O${i}`,
              access: o.access,
              parents: [...(alert ? [alert] : []), ...(incident ? [incident] : [])],
            };
          });
          for (const e of [...incidents, ...alerts, ...observables]) entities.set(e.id, e);
          // The platform (a superuser here) creates the world: one mapping per entity.
          const post = async (kind: Kind, items: object[]) => {
            if (items.length === 0) return;
            const r = await request(suite.api.app)
              .post(`${API}/${kind}-mappings/bulk/`)
              .set('Authorization', `Bearer ${root}`)
              .set('X-Tenant', 'acme')
              .send({ items });
            expect(r.status).toBe(201);
          };
          await post(
            'incident',
            incidents.map((e) => ({
              incident_id: e.id,
              technique: 'T1059.003',
              entity_access: wire(e.access),
            })),
          );
          await post(
            'alert',
            alerts.map((e) => ({
              alert_id: e.id,
              technique: 'T1059.001',
              entity_access: wire(e.access),
              ...(e.parents[0] ? { incident_id: e.parents[0] } : {}),
            })),
          );
          await post(
            'observable',
            observables.map((e) => ({
              observable_id: e.id,
              technique: 'T1564.003',
              entity_access: wire(e.access),
              ...Object.fromEntries(
                e.parents.map((p) => [p.startsWith('A') ? 'alert_id' : 'incident_id', p]),
              ),
            })),
          );
          for (const v of viewers) {
            const jwt = await token({
              sub: v.sub,
              tenant: 'acme',
              roles: [v.role],
              groups: v.groups,
              superuser: v.superuser,
            });
            const get = (path: string) =>
              request(suite.api.app)
                .get(`${API}${path}`)
                .set('Authorization', `Bearer ${jwt}`)
                .set('X-Tenant', 'acme');
            for (const kind of KINDS) {
              const allowed = [...entities.values()]
                .filter((e) => e.kind === kind && visible(e, entities, v))
                .map((e) => e.id)
                .sort();
              const list = await get(`/${kind}-mappings/?limit=1000`);
              expect(list.status).toBe(200);
              const seen = list.body.results
                .map((m: Record<string, string>) => m[`${kind}_id`])
                .sort();
              expect({ kind, viewer: v, seen, count: list.body.count }).toEqual({
                kind,
                viewer: v,
                seen: allowed,
                count: allowed.length,
              });
              const dash = await get(`/dashboard/breakdown/?by=sub-technique&entity=${kind}`);
              expect(dash.body.totals.entities).toBe(allowed.length);
              for (const m of list.body.results)
                expect((await get(`/${kind}-mappings/${m.id}/`)).status).toBe(200);
              for (const e of [...entities.values()].filter((x) => x.kind === kind)) {
                const trail = await get(`/${kind}s/${e.id}/events/`);
                expect({ entity: e.id, viewer: v, status: trail.status }).toEqual({
                  entity: e.id,
                  viewer: v,
                  status: allowed.includes(e.id) ? 200 : 404,
                });
                checks += 1;
              }
            }
            for (const i of incidents) {
              const kc = await get(`/incidents/${i.id}/kill-chain/`);
              const shown = visible(i, entities, v);
              expect({ incident: i.id, viewer: v, status: kc.status }).toEqual({
                incident: i.id,
                viewer: v,
                status: shown ? 200 : 404,
              });
              if (!shown) continue;
              const sources = kc.body.matrices.flatMap(
                (m: {
                  phases: Array<{ techniques: Array<{ sources: Array<{ entity_id: string }> }> }>;
                }) =>
                  m.phases.flatMap((p) =>
                    p.techniques.flatMap((t) => t.sources.map((s) => s.entity_id)),
                  ),
              );
              for (const id of sources)
                expect(visible(entities.get(id) as Entity, entities, v)).toBe(true);
            }
          }
        },
      ),
      { numRuns: WORLDS },
    );
    // Every world asked something of every entity: the property could fail.
    expect(checks).toBeGreaterThanOrEqual(WORLDS * 3);
  });
});
