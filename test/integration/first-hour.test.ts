import pino from 'pino';
import request from 'supertest';
import { loadConfig } from '../../src/shared/config';
import { SyncService } from '../../src/sync/sync-service';
import { appSuite, token } from '../support/api';
import { asFetched, fixtureBundle } from '../support/graph';

// What a newcomer meets before the first release is in: a 503 that says what to do, not a 404.
const suite = appSuite();

describe('before any ATT&CK release is loaded', () => {
  it('answers ATT&CK routes and mapping creates with 503 and what to do, then serves once loaded', async () => {
    const auth = `Bearer ${await token({ sub: 'alice', tenant: 'acme', roles: ['analyst'] })}`;
    // A first sync that failed (offline) leaves the domain's sync status, and no release.
    await suite.graph.write(
      `MERGE (d:AttackDomain {name: 'enterprise-attack'})
       SET d.last_attempt_at = datetime(), d.last_error = 'cannot fetch index.json: ENOTFOUND'`,
    );
    await request(suite.api.app).get('/readyz').expect(503);
    for (const [method, path, body] of [
      ['get', '/api/v1/mitre/techniques/T1059.001/'],
      ['get', '/api/v1/mitre/techniques/?tactic=execution'],
      ['get', '/api/v1/mitre/relationships/'],
      ['post', '/api/v1/mitre/alert-mappings/', { alert_id: 'A-1', technique: 'T1059.001' }],
    ] as const) {
      const req = request(suite.api.app)[method](path).set('Authorization', auth);
      const r = await (body ? req.send(body) : req);
      expect(`${method} ${path} ${r.status}`).toBe(`${method} ${path} 503`);
      expect(r.type).toBe('application/problem+json');
      expect(r.body.type).toBe('https://ttpgraph.dev/problems/not-loaded');
      expect(r.body.detail).toMatch(/no ATT&CK release loaded yet.*TTPGRAPH_IMPORT_URLS/);
      expect(r.headers['retry-after']).toBe('30');
    }
    // Tenant data needs no release: lists answer.
    await request(suite.api.app)
      .get('/api/v1/mitre/alert-mappings/')
      .set('Authorization', auth)
      .expect(200);
    await suite.api.importer.importBytes(asFetched(fixtureBundle(), 'fixture'));
    await request(suite.api.app).get('/readyz').expect(200);
    const t = await request(suite.api.app)
      .get('/api/v1/mitre/techniques/T1059.001/')
      .set('Authorization', auth)
      .expect(200);
    expect(t.body.name).toBe('PowerShell');
  });
});

describe('a first sync without internet access', () => {
  it('names TTPGRAPH_IMPORT_URLS in its log', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const config = loadConfig({
      ...process.env,
      // Nothing listens there: as unreachable as GitHub is offline.
      TTPGRAPH_SYNC_INDEX_URL: 'http://127.0.0.1:1/index.json',
      TTPGRAPH_FETCH_TIMEOUT_MS: '2000',
    });
    const sync = SyncService.forGraph(suite.graph, config, log);
    const run = await sync.run({ trigger: 'schedule' });
    expect(run.state).toBe('failed');
    const hint = lines
      .map((l) => JSON.parse(l) as { msg: string })
      .find((l) => /TTPGRAPH_IMPORT_URLS/.test(l.msg));
    expect(hint?.msg).toMatch(/without internet access, set TTPGRAPH_IMPORT_URLS/);
  });
});
