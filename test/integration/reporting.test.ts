import request from 'supertest';
import { analyst, appSuite, token, viewer } from '../support/api';

// An incident's kill chain through the API, on the fixture (Enterprise matrix with execution,
// persistence and defense-evasion, in that order).
const API = '/api/v1/mitre';
const suite = appSuite({ fixture: true });

const post = async (path: string, body: object) =>
  request(suite.api.app)
    .post(`${API}${path}`)
    .set('Authorization', `Bearer ${await analyst()}`)
    .send(body);

const killChain = async (id: string, as?: string) =>
  request(suite.api.app)
    .get(`${API}/incidents/${id}/kill-chain/`)
    .set('Authorization', `Bearer ${as ?? (await viewer())}`);

beforeEach(async () => {
  await suite.graph.write(
    'MATCH (n) WHERE n:Alert OR n:Incident OR n:Observable OR n:Mapping OR n:MappingEvent OR n:EntityEvent DETACH DELETE n',
  );
  // The incident's own mapping has no time; its alert's and the alert's observable's have.
  expect(
    (await post('/incident-mappings/', { incident_id: 'I-KC', technique: 'T1059.003' })).status,
  ).toBe(201);
  expect(
    (
      await post('/alert-mappings/', {
        alert_id: 'A-KC',
        incident_id: 'I-KC',
        technique: 'T1059.001',
        occurred_at: '2026-03-01T10:00:00Z',
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await post('/observable-mappings/', {
        observable_id: 'O-KC',
        alert_id: 'A-KC',
        technique: 'T1564.003',
        occurred_at: '2026-03-01T10:05:00Z',
      })
    ).status,
  ).toBe(201);
});

describe('GET incidents/{id}/kill-chain/', () => {
  it('lays the incident, its alerts and their observables out in matrix order, with its gaps', async () => {
    const r = await killChain('I-KC');
    expect(r.status).toBe(200);
    expect(r.body.incident).toBe('I-KC');
    expect(r.body.unplaced).toEqual([]);
    const [m] = r.body.matrices;
    expect(m.matrix).toBe('Enterprise ATT&CK');
    expect(m.phases.map((p: { tactic: string }) => p.tactic)).toEqual([
      'execution',
      'persistence',
      'defense-evasion',
    ]);
    const [execution, persistence, evasion] = m.phases;
    expect(execution).toMatchObject({
      observed: true,
      first_seen: '2026-03-01T10:00:00Z',
      last_seen: '2026-03-01T10:00:00Z',
    });
    expect(execution.techniques).toEqual([
      {
        technique: 'T1059.001',
        name: 'PowerShell',
        sources: [
          expect.objectContaining({
            kind: 'alert',
            entity_id: 'A-KC',
            occurred_at: '2026-03-01T10:00:00Z',
          }),
        ],
      },
      {
        technique: 'T1059.003',
        name: 'Windows Command Shell',
        sources: [
          expect.objectContaining({ kind: 'incident', entity_id: 'I-KC', occurred_at: null }),
        ],
      },
    ]);
    expect(persistence).toMatchObject({ observed: false, techniques: [], first_seen: null });
    expect(evasion.techniques).toEqual([
      {
        technique: 'T1564.003',
        name: 'Hidden Window',
        sources: [expect.objectContaining({ kind: 'observable', entity_id: 'O-KC' })],
      },
    ]);
    expect(m.progression).toEqual([
      { tactic: 'execution', first_seen: '2026-03-01T10:00:00Z', tied: false },
      { tactic: 'defense-evasion', first_seen: '2026-03-01T10:05:00Z', tied: false },
    ]);
    expect(m.skipped).toEqual(['persistence']);
    expect(m.untimed).toEqual([]);
    expect(m.coverage).toEqual({ tactics_observed: 2, tactics_total: 3, techniques_observed: 3 });
  });

  it('says which tactics tie in time and which have no time at all', async () => {
    await post('/alert-mappings/', {
      alert_id: 'A-KC2',
      incident_id: 'I-KC',
      technique: 'T1564',
      occurred_at: '2026-03-01T10:00:00Z',
    });
    // Defense evasion is now first seen at 10:00 too: a tie, ordered by the matrix.
    const tied = (await killChain('I-KC')).body.matrices[0];
    expect(tied.progression).toEqual([
      { tactic: 'execution', first_seen: '2026-03-01T10:00:00Z', tied: true },
      { tactic: 'defense-evasion', first_seen: '2026-03-01T10:00:00Z', tied: true },
    ]);
    await suite.graph.write(
      `MATCH (m:Mapping {tenant: 'acme'}) WHERE m.technique_id = 'T1059.001' REMOVE m.occurred_at`,
    );
    const [m] = (await killChain('I-KC')).body.matrices;
    expect(m.progression).toEqual([
      { tactic: 'defense-evasion', first_seen: '2026-03-01T10:00:00Z', tied: false },
    ]);
    expect(m.untimed).toEqual(['execution']);
    expect(m.phases[0]).toMatchObject({ tactic: 'execution', observed: true, first_seen: null });
  });

  it('answers 404 for another tenant, an unknown incident, and 403 without a role', async () => {
    const other = await token({ sub: 'eve', tenant: 'globex', roles: ['analyst'] });
    const theirs = await killChain('I-KC', other);
    expect(theirs.status).toBe(404);
    expect(theirs.type).toBe('application/problem+json');
    expect((await killChain('I-NOPE')).status).toBe(404);
    const none = await token({ sub: 'nobody', tenant: 'acme', roles: [] });
    expect((await killChain('I-KC', none)).status).toBe(403);
  });
});
