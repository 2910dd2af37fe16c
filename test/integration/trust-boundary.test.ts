import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import request from 'supertest';
import { loadConfig } from '../../src/shared/config';
import type { Graph } from '../../src/shared/neo4j';
import { fixtureApp, testApp, token, type TestApi } from '../support/api';

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
