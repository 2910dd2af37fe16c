import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import request from 'supertest';
import { startServer } from '../../src/http/server';
import { loadConfig } from '../../src/shared/config';
import type { Graph } from '../../src/shared/neo4j';
import { fixtureApp, testApp, token, type TestApi } from '../support/api';
import { silentLogger } from '../support/graph';

// Regression tests for what a security reviewer reproduced against the running service.
let graph: Graph;
let api: TestApi;

beforeAll(async () => {
  ({ graph, api } = await fixtureApp());
});
afterAll(async () => {
  await api.close();
  await graph.close();
});

const bearer = async (claims: Parameters<typeof token>[0]) => `Bearer ${await token(claims)}`;

describe('a user id is never read as a role', () => {
  it.each(['superuser', 'admin', 'analyst', 'role:superuser'])(
    'sub "%s" without roles gets nothing',
    async (sub) => {
      const auth = await bearer({ sub, tenant: 'acme', roles: [] });
      await request(api.app).get('/api/v1/mitre/sync/').set('Authorization', auth).expect(403);
      await request(api.app)
        .post('/api/v1/mitre/imports/')
        .set('Authorization', auth)
        .send({ url: 'https://example.org/x.json' })
        .expect(403);
      await request(api.app)
        .get('/api/v1/mitre/techniques/')
        .set('Authorization', auth)
        .expect(403);
    },
  );

  it('sub "admin" with the analyst role cannot change another user\'s mapping', async () => {
    const owner = await bearer({ sub: 'olivia', tenant: 'acme', roles: ['analyst'] });
    const created = await request(api.app)
      .post('/api/v1/mitre/alert-mappings/')
      .set('Authorization', owner)
      .send({ alert_id: 'tb-a1', technique: 'T1059.001' })
      .expect(201);
    const admin = await bearer({ sub: 'admin', tenant: 'acme', roles: ['analyst'] });
    await request(api.app)
      .patch(`/api/v1/mitre/alert-mappings/${created.body.id}/`)
      .set('Authorization', admin)
      .send({ confidence: 99 })
      .expect(403);
    await request(api.app)
      .delete(`/api/v1/mitre/alert-mappings/${created.body.id}/`)
      .set('Authorization', admin)
      .expect(403);
  });

  it('a roles claim of "superuser" does not make a superuser', async () => {
    const auth = await bearer({ sub: 'mallory', roles: ['superuser', 'viewer'], tenant: 'acme' });
    await request(api.app).get('/api/v1/mitre/sync/').set('Authorization', auth).expect(403);
    const status = await request(api.app)
      .get('/api/v1/mitre/status/')
      .set('Authorization', auth)
      .expect(200);
    expect(status.body.database).toEqual({ reachable: true });
    expect(status.body.detailed).toBeUndefined();
    // Not a superuser, so no tenant outside the token either.
    await request(api.app)
      .get('/api/v1/mitre/alert-mappings/')
      .set('Authorization', auth)
      .set('X-Tenant', 'globex')
      .expect(403);
  });

  it('the superuser claim set to true is a superuser', async () => {
    const auth = await bearer({ sub: 'root', superuser: true });
    await request(api.app).get('/api/v1/mitre/sync/').set('Authorization', auth).expect(200);
  });
});

describe('tokens', () => {
  it('refuses a token without exp', async () => {
    const jwt = await new SignJWT({ roles: ['viewer'], tenant: 'acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuedAt()
      .sign(new TextEncoder().encode(api.config.auth.secret));
    const r = await request(api.app)
      .get('/api/v1/mitre/tactics/')
      .set('Authorization', `Bearer ${jwt}`)
      .expect(401);
    expect(r.body.detail).toMatch(/exp/);
  });

  it('refuses a token that lives longer than JWT_MAX_LIFETIME', async () => {
    const auth = await bearer({
      sub: 'alice',
      tenant: 'acme',
      roles: ['viewer'],
      expiresIn: 86_400 * 30,
    });
    const r = await request(api.app)
      .get('/api/v1/mitre/tactics/')
      .set('Authorization', auth)
      .expect(401);
    expect(r.body.detail).toMatch(/JWT_MAX_LIFETIME/);
  });

  it('JWKS mode needs an issuer, an audience and https', () => {
    const jwks = { JWT_JWKS_URL: 'https://idp.example/jwks.json' };
    expect(() => loadConfig(jwks)).toThrow(/JWT_ISSUER and JWT_AUDIENCE/);
    expect(() => loadConfig({ ...jwks, JWT_ISSUER: 'https://idp.example/' })).toThrow(
      /JWT_AUDIENCE/,
    );
    const plain = { JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' };
    expect(() => loadConfig({ ...plain, JWT_JWKS_URL: 'http://idp.example/jwks.json' })).toThrow(
      /must be https/,
    );
    expect(() => loadConfig({ ...plain, JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json' })).toThrow(
      /JWT_JWKS_ALLOW_HTTP_LOOPBACK/,
    );
    expect(() =>
      loadConfig({
        ...plain,
        JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json',
        JWT_JWKS_ALLOW_HTTP_LOOPBACK: 'true',
      }),
    ).not.toThrow();
    expect(() =>
      loadConfig({
        ...plain,
        JWT_JWKS_URL: 'http://idp.example/jwks.json',
        JWT_JWKS_ALLOW_HTTP_LOOPBACK: 'true',
      }),
    ).toThrow(/must be https/);
  });

  describe('with a JWKS', () => {
    let jwksServer: http.Server;
    let jwksApi: TestApi;
    let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
    const sign = (claims: { iss?: string; aud?: string; exp?: boolean }) => {
      let jwt = new SignJWT({ roles: ['viewer'], tenant: 'acme' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('alice')
        .setIssuedAt();
      if (claims.iss) jwt = jwt.setIssuer(claims.iss);
      if (claims.aud) jwt = jwt.setAudience(claims.aud);
      if (claims.exp !== false) jwt = jwt.setExpirationTime('5m');
      return jwt.sign(privateKey);
    };

    beforeAll(async () => {
      const pair = await generateKeyPair('RS256');
      privateKey = pair.privateKey;
      const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' };
      jwksServer = http.createServer((_req, res) => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
      const port = (jwksServer.address() as AddressInfo).port;
      jwksApi = await testApp({
        JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
        JWT_JWKS_ALLOW_HTTP_LOOPBACK: 'true',
        JWT_ISSUER: 'https://idp.acme.example/',
        JWT_AUDIENCE: 'ttpgraph',
      });
    });
    afterAll(async () => {
      await jwksApi.close();
      await new Promise((r) => jwksServer.close(r));
    });

    const get = (jwt: string) =>
      request(jwksApi.app).get('/api/v1/mitre/tactics/').set('Authorization', `Bearer ${jwt}`);

    it('accepts its own issuer and audience', async () => {
      await get(await sign({ iss: 'https://idp.acme.example/', aud: 'ttpgraph' })).expect(200);
    });

    it('refuses a foreign audience or issuer, and a token without exp', async () => {
      await get(await sign({ iss: 'https://idp.acme.example/', aud: 'other' })).expect(401);
      await get(await sign({ iss: 'https://evil.example/', aud: 'ttpgraph' })).expect(401);
      await get(await sign({})).expect(401);
      await get(
        await sign({ iss: 'https://idp.acme.example/', aud: 'ttpgraph', exp: false }),
      ).expect(401);
    });
  });
});

describe('mappings change exactly what is asked', () => {
  const alice = () => bearer({ sub: 'alice', tenant: 'acme', roles: ['analyst'] });
  const bob = () => bearer({ sub: 'bob', tenant: 'acme', roles: ['analyst'] });
  const send = async (
    method: 'post' | 'patch' | 'get',
    path: string,
    auth: string,
    body?: unknown,
  ) => {
    const r = request(api.app)[method](`/api/v1/mitre${path}`).set('Authorization', auth);
    return body === undefined ? r : r.send(body as object);
  };

  async function mapping(alertId: string) {
    const r = await send('post', '/alert-mappings/', await alice(), {
      alert_id: alertId,
      technique: 'T1059.001',
      source: 'rule',
      confidence: 80,
      procedure: 'x',
    });
    expect(r.status).toBe(201);
    return r.body as Record<string, unknown>;
  }

  it('PATCH changes the fields sent and no other (no defaults)', async () => {
    const before = await mapping('tb-patch-1');
    const r = await send('patch', `/alert-mappings/${before.id}/`, await alice(), {
      procedure: 'y',
    });
    expect(r.status).toBe(200);
    const { procedure, updated_at, ...rest } = r.body;
    const { procedure: p0, updated_at: u0, warnings, ...rest0 } = before;
    expect([procedure, p0, warnings]).toEqual(['y', 'x', []]);
    expect(Date.parse(updated_at)).toBeGreaterThanOrEqual(Date.parse(u0 as string));
    expect(rest).toEqual(rest0);
    const events = await send('get', `/alert-mappings/${before.id}/events/`, await alice());
    expect(events.body.results.map((e: { changes: unknown }) => e.changes)).toEqual([
      { created: { technique: 'T1059.001', tactic: null, source: 'rule' } },
      { procedure: { from: 'x', to: 'y' } },
    ]);
  });

  it('PATCH with an empty object, no body or a non-JSON body is 400', async () => {
    const m = await mapping('tb-patch-2');
    const path = `/api/v1/mitre/alert-mappings/${m.id}/`;
    const auth = await alice();
    const empty = await request(api.app).patch(path).set('Authorization', auth).send({});
    expect(empty.status).toBe(400);
    expect(empty.type).toBe('application/problem+json');
    const none = await request(api.app).patch(path).set('Authorization', auth);
    expect(none.status).toBe(400);
    expect(none.type).toBe('application/problem+json');
    const typed = await request(api.app)
      .patch(path)
      .set('Authorization', auth)
      .set('Content-Type', 'application/json')
      .send('');
    expect(typed.status).toBe(400);
  });

  it('bodies are not coerced: numbers are not strings, nor strings numbers', async () => {
    const auth = await alice();
    const cases = [
      [{ alert_id: 123, technique: 'T1059.001' }, 'alert_id'],
      [{ alert_id: 'tb-c', technique: 'T1059.001', confidence: '77' }, 'confidence'],
      [{ alert_id: 'tb-c', technique: 'T1059.001', allow_deprecated: 'true' }, 'allow_deprecated'],
    ] as const;
    for (const [body, field] of cases) {
      const r = await send('post', '/alert-mappings/', auth, body);
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body.errors)).toContain(field);
    }
  });

  it('PATCH procedure: null removes the procedure', async () => {
    const m = await mapping('tb-patch-3');
    const r = await send('patch', `/alert-mappings/${m.id}/`, await alice(), { procedure: null });
    expect(r.status).toBe(200);
    expect(r.body.procedure).toBeNull();
    expect(r.body.confidence).toBe(80);
  });

  it('a page never holds more than limit, whatever links an entity has', async () => {
    const auth = await alice();
    for (let i = 0; i < 30; i++) {
      const r = await send('post', '/observable-mappings/', auth, {
        observable_id: 'tb-obs-1',
        incident_id: `tb-inc-${i}`,
        alert_id: `tb-alert-${i}`,
        technique: i % 2 === 0 ? 'T1059.001' : 'T1059',
      });
      expect([200, 201]).toContain(r.status);
    }
    // Links accumulated behind the API's back (data written before this rule) count once too.
    await graph.write(
      `MATCH (o:Observable {tenant: 'acme', id: 'tb-obs-1'})
       UNWIND range(100, 110) AS i
       MERGE (x:Incident {tenant: 'acme', id: 'tb-extra-' + i})
       MERGE (o)-[:PART_OF]->(x)`,
    );
    const r = await send('get', '/observable-mappings/?observable_id=tb-obs-1&limit=1', auth);
    expect(r.status).toBe(200);
    expect(r.body.count).toBe(2);
    expect(r.body.results).toHaveLength(1);
  });

  it("a mapping does not rewrite its entity's fields or parents unless its editor asks", async () => {
    const first = await send('post', '/alert-mappings/', await alice(), {
      alert_id: 'tb-ent-1',
      incident_id: 'tb-ent-inc-1',
      title: 'Encoded PowerShell',
      severity: 'high',
      technique: 'T1059.001',
    });
    expect(first.status).toBe(201);
    const other = await send('post', '/alert-mappings/', await bob(), {
      alert_id: 'tb-ent-1',
      incident_id: 'tb-ent-inc-2',
      title: 'renamed',
      technique: 'T1059',
    });
    expect(other.status).toBe(201);
    expect(other.body.incident_id).toBe('tb-ent-inc-1');
    expect(other.body.warnings).toEqual([
      expect.stringMatching(/tb-ent-1 exists: title, incident_id left as they are/),
    ]);
    const denied = await send('post', '/alert-mappings/', await bob(), {
      alert_id: 'tb-ent-1',
      incident_id: 'tb-ent-inc-2',
      technique: 'T1059',
      update_entity: true,
    });
    expect(denied.status).toBe(403);
    const moved = await send('post', '/alert-mappings/', await alice(), {
      alert_id: 'tb-ent-1',
      incident_id: 'tb-ent-inc-2',
      severity: 'low',
      technique: 'T1059',
      update_entity: true,
    });
    expect(moved.status).toBe(200);
    expect(moved.body.incident_id).toBe('tb-ent-inc-2');
    const events = await send('get', '/alerts/tb-ent-1/events/', await bob());
    expect(events.status).toBe(200);
    expect(
      events.body.results.map((e: { action: string; actor: string; changes: unknown }) => [
        e.action,
        e.actor,
        e.changes,
      ]),
    ).toEqual([
      [
        'created',
        'alice',
        { title: 'Encoded PowerShell', severity: 'high', incident_id: 'tb-ent-inc-1' },
      ],
      [
        'updated',
        'alice',
        {
          severity: { from: 'high', to: 'low' },
          incident_id: { from: 'tb-ent-inc-1', to: 'tb-ent-inc-2' },
        },
      ],
    ]);
    const admin = await bearer({ sub: 'ada', tenant: 'acme', roles: ['admin'] });
    const byAdmin = await send('post', '/alert-mappings/', admin, {
      alert_id: 'tb-ent-1',
      status: 'closed',
      technique: 'T1059',
      update_entity: true,
    });
    expect(byAdmin.status).toBe(200);
    const elsewhere = await send(
      'get',
      '/alerts/tb-ent-1/events/',
      await bearer({ sub: 'gina', tenant: 'globex', roles: ['admin'] }),
    );
    expect(elsewhere.status).toBe(404);
  });
});

describe('date-times the validator would pass but Neo4j refuses are 400 with the field named', () => {
  const BAD = [
    '2024-02-30T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-01-01T00:00:00+19:00',
    '2024-01-01T00:00:00+25:00',
    '2016-12-31T23:59:60Z',
    '2024-01-01T00:00:00.1234567890123Z',
  ];
  it.each(BAD)('%s', async (value) => {
    const auth = await bearer({ sub: 'alice', tenant: 'acme', roles: ['analyst'] });
    for (const filter of ['created_after', 'occurred_before']) {
      const r = await request(api.app)
        .get(`/api/v1/mitre/alert-mappings/?${filter}=${encodeURIComponent(value)}`)
        .set('Authorization', auth);
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body.errors)).toContain(filter);
    }
    const attack = await request(api.app)
      .get(`/api/v1/mitre/techniques/?modified_after=${encodeURIComponent(value)}`)
      .set('Authorization', auth);
    expect(attack.status).toBe(400);
    const one = await request(api.app)
      .post('/api/v1/mitre/alert-mappings/')
      .set('Authorization', auth)
      .send({ alert_id: 'tb-date', technique: 'T1059.001', occurred_at: value });
    expect(one.status).toBe(400);
    expect(JSON.stringify(one.body.errors)).toContain('occurred_at');
    const bulk = await request(api.app)
      .post('/api/v1/mitre/alert-mappings/bulk/')
      .set('Authorization', auth)
      .send({
        items: [
          { alert_id: 'tb-date', technique: 'T1059.001' },
          { alert_id: 'tb-date', technique: 'T1059', occurred_at: value },
        ],
      });
    expect(bulk.status).toBe(400);
    expect(JSON.stringify(bulk.body.errors)).toContain('items/1/occurred_at');
  });
});

describe('resource bounds', () => {
  it('reads no body on a path outside the API, and a small one elsewhere', async () => {
    const big = JSON.stringify({ x: 'a'.repeat(300 * 1024) });
    const outside = await request(api.app)
      .post('/wrong/path')
      .set('Content-Type', 'application/json')
      .send(big);
    expect(outside.status).toBe(404);
    // Without a token nothing is parsed: 401, not 413.
    const anonymous = await request(api.app)
      .post('/api/v1/mitre/alert-mappings/')
      .set('Content-Type', 'application/json')
      .send(big);
    expect(anonymous.status).toBe(401);
    const auth = await bearer({ sub: 'alice', tenant: 'acme', roles: ['analyst'] });
    const tooBig = await request(api.app)
      .post('/api/v1/mitre/alert-mappings/')
      .set('Authorization', auth)
      .set('Content-Type', 'application/json')
      .send(big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.type).toBe('application/problem+json');
    // bulk/ takes large bodies.
    const items = Array.from({ length: 2000 }, (_, i) => ({
      alert_id: `tb-bulk-${i}`,
      technique: 'T1059.001',
      procedure: 'p'.repeat(200),
    }));
    const bulk = await request(api.app)
      .post('/api/v1/mitre/alert-mappings/bulk/')
      .set('Authorization', auth)
      .send({ items });
    expect(bulk.status).toBe(201);
    expect(bulk.body.created).toBe(2000);
  });

  it('a compressed body that is not what Content-Encoding says is a 400 problem', async () => {
    const auth = await bearer({ sub: 'alice', tenant: 'acme', roles: ['analyst'] });
    for (const encoding of ['gzip', 'br', 'deflate']) {
      const r = await request(api.app)
        .post('/api/v1/mitre/alert-mappings/')
        .set('Authorization', auth)
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', encoding)
        .send(JSON.stringify({ alert_id: 'x', technique: 'T1059.001' }));
      expect(r.status).toBe(400);
      expect(r.type).toBe('application/problem+json');
    }
    const unknown = await request(api.app)
      .post('/api/v1/mitre/alert-mappings/')
      .set('Authorization', auth)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'zstd-or-so')
      .send('{}');
    expect(unknown.status).toBe(415);
    expect(unknown.type).toBe('application/problem+json');
  });

  it('a gzip bomb upload is 413 and the service goes on', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20), { level: 9 });
    const small = await testApp({ TTPGRAPH_MAX_BUNDLE_BYTES: String(8 * 1024 * 1024) });
    try {
      const root = await bearer({ sub: 'root', superuser: true });
      const r = await request(small.app)
        .post('/api/v1/mitre/imports/')
        .set('Authorization', root)
        .set('Content-Type', 'application/gzip')
        .send(bomb);
      expect(r.status).toBe(413);
      expect(r.body.detail).toMatch(/decompresses to more than/);
      await request(small.app).get('/healthz').expect(200);
    } finally {
      await small.close();
    }
  });

  it('limits each user to its rate and says when to come back', async () => {
    const limited = await testApp({ TTPGRAPH_RATE_LIMIT_RPS: '1', TTPGRAPH_RATE_LIMIT_BURST: '3' });
    try {
      const noisy = await bearer({ sub: 'noisy', tenant: 'acme', roles: ['viewer'] });
      const statuses: number[] = [];
      let limitedAnswer: request.Response | undefined;
      for (let i = 0; i < 5; i++) {
        const r = await request(limited.app)
          .get('/api/v1/mitre/tactics/')
          .set('Authorization', noisy);
        statuses.push(r.status);
        if (r.status === 429) limitedAnswer = r;
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.slice(3)).toContain(429);
      expect(limitedAnswer?.type).toBe('application/problem+json');
      expect(Number(limitedAnswer?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Another user is not held back by the noisy one.
      const quiet = await bearer({ sub: 'quiet', tenant: 'globex', roles: ['viewer'] });
      await request(limited.app)
        .get('/api/v1/mitre/tactics/')
        .set('Authorization', quiet)
        .expect(200);
    } finally {
      await limited.close();
    }
  });
});

describe('imports by URL fetch only what they may', () => {
  let inside: http.Server;
  let insideBase: string;
  beforeAll(async () => {
    // What a caller must not reach through the service: this host's other ports.
    inside = http.createServer((req, res) => {
      if (req.url === '/redirect') res.writeHead(302, { location: '/secret' }).end();
      else
        res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end('root:x:0:0:root:/root:/bin/bash\n');
    });
    await new Promise<void>((r) => inside.listen(0, '127.0.0.1', r));
    insideBase = `http://127.0.0.1:${(inside.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => inside.close(r));
  });

  const importUrl = async (app: TestApi, url: string) =>
    request(app.app)
      .post('/api/v1/mitre/imports/')
      .set('Authorization', await bearer({ sub: 'root', superuser: true }))
      .send({ url });

  it.each([
    ['plain http', () => `${insideBase}/secret`],
    ['a loopback address over https', () => 'https://127.0.0.1:1/x.json'],
    ['cloud metadata', () => 'https://169.254.169.254/latest/meta-data/'],
    ['a file', () => 'file:///etc/passwd'],
  ])('refuses %s before fetching', async (_what, url) => {
    const r = await importUrl(api, url());
    expect(r.status).toBe(400);
    expect(r.type).toBe('application/problem+json');
    expect(JSON.stringify(r.body)).not.toContain('root:x');
  });

  it('a name that resolves to loopback gets the one generic answer: nothing said about it', async () => {
    const named = await importUrl(api, 'https://localhost:1/x.json');
    const closed = await importUrl(api, 'https://localhost:2/x.json');
    expect(named.status).toBe(502);
    expect(named.body.detail.replace(/:\d\//, ':N/')).toBe(
      closed.body.detail.replace(/:\d\//, ':N/'),
    );
    expect(named.body.detail).not.toMatch(/ECONN|EADDR|refused|127\.0\.0\.1/);
    expect(named.body.detail).toBe(
      'cannot fetch https://localhost:1/x.json: no answer from a public https server there',
    );
  });

  it('follows a redirect only where the URL itself could go, and never echoes fetched bytes', async () => {
    const mirror = await testApp({ TTPGRAPH_IMPORT_ALLOWED_HOSTS: 'mirror.invalid' });
    const allowed = await testApp({ TTPGRAPH_IMPORT_ALLOWED_HOSTS: '127.0.0.1' });
    try {
      // The operator's mirror may be plain http on a private address; what it serves is not echoed.
      const read = await importUrl(allowed, `${insideBase}/redirect`);
      expect(read.status).toBe(422);
      expect(JSON.stringify(read.body)).not.toContain('root:x');
      // Credentials in the URL are not recorded or shown.
      const withCreds = await importUrl(
        allowed,
        `${insideBase.replace('http://', 'http://user:hunter2@')}/secret`,
      );
      expect(JSON.stringify(withCreds.body)).not.toContain('hunter2');
      const runs = await graph.read<{ run: Record<string, unknown> }>(
        'MATCH (r:SyncRun) RETURN properties(r) AS run',
      );
      expect(runs.length).toBeGreaterThan(0);
      expect(JSON.stringify(runs)).not.toContain('hunter2');
      // Not on the list: refused even though the port is open.
      const refused = await importUrl(mirror, `${insideBase}/secret`);
      expect(refused.status).toBe(400);
    } finally {
      await mirror.close();
      await allowed.close();
    }
  });
});

describe('links and headers', () => {
  it('builds links on TTPGRAPH_PUBLIC_URL when set, never on Host', async () => {
    const pub = await testApp({ TTPGRAPH_PUBLIC_URL: 'https://soc.example/' });
    try {
      const r = await request(pub.app)
        .get('/api/v1/mitre/techniques/?limit=1')
        .set('Host', 'evil.example')
        .set('Authorization', await bearer({ sub: 'v', tenant: 'acme', roles: ['viewer'] }))
        .expect(200);
      expect(r.body.next).toBe('https://soc.example/api/v1/mitre/techniques/?limit=1&offset=1');
      expect(r.headers['strict-transport-security']).toMatch(/max-age=/);
    } finally {
      await pub.close();
    }
  });

  it('sends the headers a JSON API needs, on answers and on errors', async () => {
    const viewer = await bearer({ sub: 'v', tenant: 'acme', roles: ['viewer'] });
    const reference = await request(api.app)
      .get('/api/v1/mitre/tactics/')
      .set('Authorization', viewer);
    for (const [r, caching] of [
      // Reference data: any cache may keep it, revalidating (with the caller's token) each time.
      [reference, 'public, no-cache'],
      // Tenant data and errors: stored nowhere.
      [
        await request(api.app).get('/api/v1/mitre/alert-mappings/').set('Authorization', viewer),
        'no-store',
      ],
      [await request(api.app).get('/api/v1/mitre/tactics/'), 'no-store'],
      [await request(api.app).get('/nowhere'), 'no-store'],
    ] as const) {
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['cache-control']).toBe(caching);
      expect(r.headers['x-powered-by']).toBeUndefined();
    }
    expect(reference.status).toBe(200);
    // supertest asks for gzip: that representation's tag.
    expect(reference.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}-gzip"$/);
  });

  it("serves Swagger UI's assets as what they are, with or without the slash", async () => {
    const moved = await request(api.app).get('/api/v1/mitre/docs').expect(301);
    expect(moved.headers.location).toBe('/api/v1/mitre/docs/');
    const page = await request(api.app).get('/api/v1/mitre/docs/').expect(200);
    expect(page.type).toBe('text/html');
    for (const [asset, type] of [
      ['swagger-ui.css', 'text/css'],
      ['swagger-ui-bundle.js', 'javascript'],
      ['swagger-ui-init.js', 'javascript'],
    ]) {
      const r = await request(api.app).get(`/api/v1/mitre/docs/${asset}`).expect(200);
      expect(`${asset} ${r.type}`).toMatch(new RegExp(`^${asset} .*${type}$`));
    }
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });
});

describe('the contract, exactly', () => {
  const viewerAuth = () => bearer({ sub: 'v', tenant: 'acme', roles: ['viewer'] });

  it('answers HEAD wherever GET is, and OPTIONS with Allow', async () => {
    const head = await request(api.app)
      .head('/api/v1/mitre/techniques/T1059.001/')
      .set('Authorization', await viewerAuth());
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toMatch(/application\/json/);
    expect(head.text ?? '').toBe('');
    const options = await request(api.app).options('/api/v1/mitre/alert-mappings/T1/');
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('GET, DELETE, PATCH, HEAD, OPTIONS');
    expect(options.headers['x-content-type-options']).toBe('nosniff');
    const put = await request(api.app)
      .put('/api/v1/mitre/tactics/')
      .set('Authorization', await viewerAuth());
    expect(put.status).toBe(405);
    expect(put.headers.allow).toMatch(/GET/);
    expect(put.type).toBe('application/problem+json');
  });

  it('answers every unknown route with one problem type', async () => {
    const auth = await viewerAuth();
    const types = new Set<string>();
    for (const path of ['/nowhere', '/api/v1/mitre/nowhere/', '/api/v1/mitre/tactics/TA0002/x/']) {
      const r = await request(api.app).get(path).set('Authorization', auth);
      expect(r.status).toBe(404);
      expect(r.body.detail).toMatch(/^no route for GET /);
      types.add(r.body.type);
    }
    const missing = await request(api.app)
      .get('/api/v1/mitre/techniques/T9999/')
      .set('Authorization', auth);
    types.add(missing.body.type);
    expect([...types]).toEqual(['https://ttpgraph.dev/problems/not-found']);
  });

  it('takes repeated filters as "any of" and booleans as django-filter does', async () => {
    const auth = await viewerAuth();
    const ids = (r: request.Response) =>
      (r.body.results as Array<{ id: string }>).map((o) => o.id).sort();
    const one = await request(api.app)
      .get('/api/v1/mitre/tactics/?domain=enterprise-attack')
      .set('Authorization', auth)
      .expect(200);
    const both = await request(api.app)
      .get('/api/v1/mitre/tactics/?domain=enterprise-attack&domain=mobile-attack')
      .set('Authorization', auth)
      .expect(200);
    expect(ids(both)).toEqual(ids(one));
    const exec = await request(api.app)
      .get('/api/v1/mitre/techniques/?tactic=execution')
      .set('Authorization', auth)
      .expect(200);
    const evasion = await request(api.app)
      .get('/api/v1/mitre/techniques/?tactic=defense-evasion')
      .set('Authorization', auth)
      .expect(200);
    const either = await request(api.app)
      .get('/api/v1/mitre/techniques/?tactic=execution&tactic=defense-evasion')
      .set('Authorization', auth)
      .expect(200);
    expect(ids(either)).toEqual([...new Set([...ids(exec), ...ids(evasion)])].sort());
    expect(ids(exec).length).toBeGreaterThan(0);
    expect(ids(evasion).length).toBeGreaterThan(0);
    const all = await request(api.app)
      .get('/api/v1/mitre/techniques/')
      .set('Authorization', auth)
      .expect(200);
    const spelled = async (value: string) =>
      ids(
        await request(api.app)
          .get(`/api/v1/mitre/techniques/?is_subtechnique=${value}`)
          .set('Authorization', auth)
          .expect(200),
      );
    const subs = await spelled('true');
    const tops = await spelled('false');
    expect(subs.every((id) => id.includes('.'))).toBe(true);
    expect([...subs, ...tops].sort()).toEqual(ids(all));
    for (const [yes, no] of [
      ['1', '0'],
      ['True', 'False'],
    ]) {
      expect(await spelled(yes as string)).toEqual(subs);
      expect(await spelled(no as string)).toEqual(tops);
    }
    await request(api.app)
      .get('/api/v1/mitre/techniques/?is_subtechnique=maybe')
      .set('Authorization', auth)
      .expect(400);
  });

  it('declares and checks X-Tenant', async () => {
    const r = await request(api.app)
      .get('/api/v1/mitre/alert-mappings/')
      .set('Authorization', await bearer({ sub: 'root', superuser: true }))
      .set('X-Tenant', 'x'.repeat(300));
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.errors)).toMatch(/x-tenant/i);
  });

  it('answers 201 with Location', async () => {
    const r = await request(api.app)
      .post('/api/v1/mitre/incident-mappings/')
      .set('Authorization', await bearer({ sub: 'alice', tenant: 'acme', roles: ['analyst'] }))
      .send({ incident_id: 'tb-loc-1', technique: 'T1059.001' });
    expect(r.status).toBe(201);
    expect(r.headers.location).toBe(`/api/v1/mitre/incident-mappings/${r.body.id}/`);
  });
});

describe('the server process', () => {
  it('answers over-long headers with a 431 problem', async () => {
    const server = await startServer(
      loadConfig({
        ...process.env,
        HTTP_PORT: '0',
        JWT_SECRET: 'x'.repeat(40),
        TTPGRAPH_SYNC_INTERVAL: 'off',
      }),
      silentLogger,
    );
    try {
      const status = await new Promise<{ code: number; type: string }>((resolve, reject) => {
        http
          .get(`${server.url}/healthz`, { headers: { 'x-big': 'a'.repeat(20_000) } }, (res) => {
            res.resume();
            resolve({ code: res.statusCode ?? 0, type: res.headers['content-type'] ?? '' });
          })
          .on('error', reject);
      });
      expect(status).toEqual({ code: 431, type: 'application/problem+json' });
      // A second server on the same port says what to do.
      const { port } = server.address;
      await expect(
        startServer(
          loadConfig({
            ...process.env,
            HTTP_PORT: String(port),
            JWT_SECRET: 'x'.repeat(40),
            TTPGRAPH_SYNC_INTERVAL: 'off',
          }),
          silentLogger,
        ),
      ).rejects.toThrow(new RegExp(`port ${port} .* is taken .* HTTP_PORT`));
    } finally {
      await server.close();
    }
  });
});
