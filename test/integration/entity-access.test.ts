import request from 'supertest';
import { appSuite, token } from '../support/api';

// Entity access through the API, on the fixture: an insider-threat incident restricted to one
// team, with its alert and that alert's observable, beside an ordinary incident.
const API = '/api/v1/mitre';
const suite = appSuite({ fixture: true });

const alice = () => token({ sub: 'alice', tenant: 'acme', roles: ['analyst'] });
const bob = () => token({ sub: 'bob', tenant: 'acme', roles: ['analyst'] });
const ivy = () =>
  token({ sub: 'ivy', tenant: 'acme', roles: ['analyst'], groups: ['insider-team'] });
const victor = () => token({ sub: 'victor', tenant: 'acme', roles: ['viewer'] });
const admin = () => token({ sub: 'ada', tenant: 'acme', roles: ['admin'] });
const root = () => token({ sub: 'root', superuser: true });

const call = async (
  as: Promise<string>,
  method: 'get' | 'post' | 'put' | 'patch' | 'delete',
  path: string,
  body?: object,
) => {
  // Every caller acts in acme (a superuser names it; the others' tokens do).
  const r = request(suite.api.app)
    [method](`${API}${path}`)
    .set('Authorization', `Bearer ${await as}`)
    .set('X-Tenant', 'acme');
  return body === undefined ? r : r.send(body);
};

const RESTRICTED = {
  visibility: 'restricted',
  owner: 'alice',
  read_groups: ['insider-team'],
  edit_groups: [],
};
const ids: Record<string, string> = {};

beforeEach(async () => {
  await suite.graph.write(
    'MATCH (n) WHERE n:Alert OR n:Incident OR n:Observable OR n:Mapping OR n:MappingEvent OR n:EntityEvent DETACH DELETE n',
  );
  const made = async (path: string, body: object) => {
    const r = await call(alice(), 'post', path, body);
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  ids.incident = await made('/incident-mappings/', {
    incident_id: 'I-INS',
    technique: 'T1059.003',
    entity_access: RESTRICTED,
  });
  ids.alert = await made('/alert-mappings/', {
    alert_id: 'A-INS',
    incident_id: 'I-INS',
    technique: 'T1059.001',
    occurred_at: '2026-03-01T10:00:00Z',
  });
  ids.observable = await made('/observable-mappings/', {
    observable_id: 'O-INS',
    alert_id: 'A-INS',
    technique: 'T1564.003',
  });
  ids.open = await made('/incident-mappings/', { incident_id: 'I-OPEN', technique: 'T1059.003' });
});

const listed = async (as: Promise<string>, kind: string) => {
  const r = await call(as, 'get', `/${kind}-mappings/`);
  expect(r.status).toBe(200);
  return { count: r.body.count as number, ids: r.body.results.map((m: { id: string }) => m.id) };
};

describe('a restricted incident', () => {
  it('is invisible with all it holds to a viewer outside the team: lists, counts, details, trails, reports', async () => {
    expect(await listed(victor(), 'incident')).toEqual({ count: 1, ids: [ids.open] });
    expect(await listed(victor(), 'alert')).toEqual({ count: 0, ids: [] });
    expect(await listed(victor(), 'observable')).toEqual({ count: 0, ids: [] });
    for (const path of [
      `/incident-mappings/${ids.incident}/`,
      `/alert-mappings/${ids.alert}/`,
      `/observable-mappings/${ids.observable}/`,
      `/incident-mappings/${ids.incident}/events/`,
      '/incidents/I-INS/events/',
      '/alerts/A-INS/events/',
      '/observables/O-INS/events/',
      '/incidents/I-INS/access/',
      '/incidents/I-INS/kill-chain/',
      '/alerts/A-INS/layer/',
    ]) {
      const r = await call(victor(), 'get', path);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
    }
    const changes = await call(victor(), 'get', '/mapping-changes/');
    expect(changes.body.results.map((m: { id: string }) => m.id)).not.toContain(ids.incident);
    const dash = await call(
      victor(),
      'get',
      '/dashboard/breakdown/?by=sub-technique&entity=incident',
    );
    expect(dash.body.totals).toEqual({ entities: 1, mappings: 1 });
  });

  it('is read by its team, its owner and superusers, and edited only by its owner', async () => {
    for (const who of [ivy(), alice(), root()]) {
      expect((await listed(who, 'alert')).ids).toEqual([ids.alert]);
      expect((await call(who, 'get', '/incidents/I-INS/kill-chain/')).status).toBe(200);
    }
    const byIvy = await call(ivy(), 'patch', `/alert-mappings/${ids.alert}/`, { confidence: 90 });
    expect(byIvy.status).toBe(403);
    // The alert is not restricted itself: its creator may change its mappings.
    const byAlice = await call(alice(), 'patch', `/incident-mappings/${ids.incident}/`, {
      confidence: 90,
    });
    expect(byAlice.status).toBe(200);
    expect((await call(ivy(), 'put', '/incidents/I-INS/access/', RESTRICTED)).status).toBe(403);
    const mapByIvy = await call(ivy(), 'post', '/incident-mappings/', {
      incident_id: 'I-INS',
      technique: 'T1059.001',
    });
    expect(mapByIvy.status).toBe(403);
  });

  it("refuses, as missing, mappings that name it or what is part of it for those who can't see it", async () => {
    const r = await call(bob(), 'post', '/alert-mappings/bulk/', {
      items: [
        { alert_id: 'A-NEW', technique: 'T1059.001' },
        { alert_id: 'A-NEW-2', incident_id: 'I-INS', technique: 'T1059.001' },
        { alert_id: 'A-INS', technique: 'T1059.003' },
      ],
    });
    expect(r.status).toBe(404);
    expect(r.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      '/items/1/parent',
      '/items/2/alert_id',
    ]);
    expect((await listed(bob(), 'alert')).count).toBe(0);
  });

  it('opens to the tenant when its owner says so, and what is part of it follows, audited', async () => {
    const put = await call(alice(), 'put', '/incidents/I-INS/access/', { visibility: 'tenant' });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      visibility: 'tenant',
      owner: null,
      read_groups: [],
      edit_groups: [],
    });
    expect((await listed(victor(), 'observable')).ids).toEqual([ids.observable]);
    const events = await call(victor(), 'get', '/incidents/I-INS/events/');
    const changed = events.body.results.find(
      (e: { action: string }) => e.action === 'access-changed',
    );
    expect(changed.actor).toBe('alice');
    expect(changed.changes.visibility).toEqual({ from: 'restricted', to: 'tenant' });
  });

  it('is managed by tenant admins even outside the team', async () => {
    expect((await call(admin(), 'get', '/incidents/I-INS/access/')).body).toEqual(RESTRICTED);
    const put = await call(admin(), 'put', '/incidents/I-INS/access/', {
      ...RESTRICTED,
      edit_groups: ['insider-team'],
    });
    expect(put.status).toBe(200);
    // Now the team edits it: maps it (its role changes only its own mappings, as ever).
    const byIvy = await call(ivy(), 'post', '/incident-mappings/', {
      incident_id: 'I-INS',
      technique: 'T1059.001',
    });
    expect(byIvy.status).toBe(201);
  });

  it("lets no analyst hide another's open incident: sharing needs its owner, editors or reach", async () => {
    const hide = { visibility: 'restricted', owner: 'bob', read_groups: [], edit_groups: [] };
    expect((await call(bob(), 'put', '/incidents/I-OPEN/access/', hide)).status).toBe(403);
    const viaMapping = await call(bob(), 'post', '/incident-mappings/', {
      incident_id: 'I-OPEN',
      technique: 'T1059.001',
      entity_access: hide,
    });
    expect(viaMapping.status).toBe(403);
    // Mapping the open incident is still anyone's whose role creates mappings.
    const mapped = await call(bob(), 'post', '/incident-mappings/', {
      incident_id: 'I-OPEN',
      technique: 'T1059.001',
    });
    expect(mapped.status).toBe(201);
    expect((await listed(victor(), 'incident')).count).toBe(2);
    // Its creator may.
    const byAlice = await call(alice(), 'put', '/incidents/I-OPEN/access/', {
      ...hide,
      owner: 'alice',
    });
    expect(byAlice.status).toBe(200);
  });

  it('restricts an alert joined to it later', async () => {
    const r = await call(alice(), 'post', '/alert-mappings/', {
      alert_id: 'A-LATE',
      technique: 'T1059.001',
    });
    expect(r.status).toBe(201);
    expect((await listed(victor(), 'alert')).ids).toEqual([r.body.id]);
    const moved = await call(alice(), 'post', '/alert-mappings/', {
      alert_id: 'A-LATE',
      incident_id: 'I-INS',
      technique: 'T1059.003',
      update_entity: true,
    });
    expect(moved.status).toBe(201);
    expect((await listed(victor(), 'alert')).count).toBe(0);
  });
});
