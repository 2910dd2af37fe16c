import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import type { Graph } from '../../src/shared/neo4j';
import { analyst, superuser, testApp, token, viewer, type TestApi } from '../support/api';
import { ImportService } from '../../src/attack/import-service';
import { asFetched, fixtureBundle, freshGraph, holdLease, silentLogger } from '../support/graph';

let graph: Graph;
let api: TestApi;
let server: http.Server;
let base: string;
const fixtureGz = gzipSync(Buffer.from(JSON.stringify(fixtureBundle())));

beforeAll(async () => {
  graph = await freshGraph();
  // Small limits so that 413 is cheap to reach.
  api = await testApp({
    TTPGRAPH_JSON_BODY_LIMIT: '2048',
    // The bundle server below is on loopback: named as the operator's mirror.
    TTPGRAPH_IMPORT_ALLOWED_HOSTS: '127.0.0.1',
    TTPGRAPH_UPLOAD_LIMIT: String(fixtureGz.length + 1024),
    // The cache test below refreshes the data version itself.
    TTPGRAPH_CACHE_POLL_MS: '3600000',
  });
  server = http.createServer((req, res) => {
    if (req.url === '/fixture.json.gz')
      res.writeHead(200, { 'content-length': fixtureGz.length }).end(fixtureGz);
    else res.writeHead(503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await api.close();
  await graph.close();
  await new Promise((r) => server.close(r));
});

const as = async (who: () => Promise<string>) => `Bearer ${await who()}`;

/**
 * The fixture in the graph, as most tests here start: importing the bundle the graph holds is a
 * no-op, and puts back what a test changed. Each test then runs alone or in any order.
 */
async function fixtureLoaded(): Promise<void> {
  await new ImportService(graph, silentLogger).importBytes(asFetched(fixtureBundle(), 'fixture'));
  await api.cache.refresh();
}

describe('POST /imports/', () => {
  it('is for superusers only', async () => {
    for (const who of [
      analyst,
      viewer,
      () => token({ sub: 'ada', tenant: 'acme', roles: ['admin'] }),
    ]) {
      const r = await request(api.app)
        .post('/api/v1/mitre/imports/')
        .set('Authorization', await as(who))
        .send({ url: `${base}/fixture.json.gz` })
        .expect(403);
      expect(r.type).toBe('application/problem+json');
    }
  });

  it('imports from a URL and returns the change report', async () => {
    await graph.write('MATCH (n) DETACH DELETE n');
    const r = await request(api.app)
      .post('/api/v1/mitre/imports')
      .set('Authorization', await as(superuser))
      .send({ url: `${base}/fixture.json.gz` })
      .expect(200);
    expect(r.body).toMatchObject({
      domain: 'enterprise-attack',
      version: '18.1',
      changed: true,
      totals: { added: 43 },
    });
    expect((await request(api.app).get('/readyz').expect(200)).body.status).toBe('ok');
  });

  it('imports an uploaded gzip bundle with options in the query', async () => {
    await fixtureLoaded();
    const r = await request(api.app)
      .post('/api/v1/mitre/imports/?force=true')
      .set('Authorization', await as(superuser))
      .set('Content-Type', 'application/gzip')
      .send(fixtureGz)
      .expect(200);
    expect(r.body).toMatchObject({
      source: 'upload',
      force: true,
      changed: true,
      totals: { unchanged: 43 },
    });
  });

  it('answers 409 while another sync holds the lease', async () => {
    const other = await holdLease(graph, 'another-host:1');
    const r = await request(api.app)
      .post('/api/v1/mitre/imports/?force=true')
      .set('Authorization', await as(superuser))
      .set('Content-Type', 'application/gzip')
      .send(fixtureGz);
    await other.release();
    expect(r.status).toBe(409);
    expect(r.type).toBe('application/problem+json');
    expect(r.body.detail).toMatch(/another sync holds the lease \(another-host:1/);
  });

  it('answers an invalid bundle with 422 and each problem, and keeps the data', async () => {
    await fixtureLoaded();
    const bad = {
      type: 'bundle',
      id: fixtureBundle().id,
      objects: [{ type: 'attack-pattern', id: 'attack-pattern--nope' }],
    };
    const r = await request(api.app)
      .post('/api/v1/mitre/imports/?strict=true')
      .set('Authorization', await as(superuser))
      .set('Content-Type', 'application/stix+json')
      .send(JSON.stringify(bad))
      .expect(422);
    expect(r.body).toMatchObject({ status: 422, title: 'Invalid STIX bundle' });
    expect(r.body.errors).toEqual([expect.objectContaining({ path: 'attack-pattern--nope.id' })]);
    const [n] = await graph.read<{ n: number }>('MATCH (t:Technique) RETURN count(t) AS n');
    expect(n!.n).toBe(7);
  });

  it('answers a failing source with 502', async () => {
    const r = await request(api.app)
      .post('/api/v1/mitre/imports/')
      .set('Authorization', await as(superuser))
      .send({ url: `${base}/down` })
      .expect(502);
    expect(r.body.detail).toMatch(/HTTP 503/);
  });

  it('refuses file URLs and bodies that are not http(s) URLs', async () => {
    await request(api.app)
      .post('/api/v1/mitre/imports/')
      .set('Authorization', await as(superuser))
      .send({ url: 'file:///etc/passwd' })
      .expect(400);
    await request(api.app)
      .post('/api/v1/mitre/imports/')
      .set('Authorization', await as(superuser))
      .send({ url: 'http://x', colour: 'blue' })
      .expect(400);
  });

  it('answers 413 for bodies over the limits and 415 for other media types', async () => {
    const big = await request(api.app)
      .post('/api/v1/mitre/imports/')
      .set('Authorization', await as(superuser))
      .send({ url: `http://example.org/${'a'.repeat(4096)}` })
      .expect(413);
    expect(big.body).toMatchObject({ status: 413, title: 'Content Too Large' });
    await request(api.app)
      .post('/api/v1/mitre/imports/')
      .set('Authorization', await as(superuser))
      .set('Content-Type', 'application/gzip')
      .send(Buffer.concat([fixtureGz, Buffer.alloc(4096)]))
      .expect(413);
    const text = await request(api.app)
      .post('/api/v1/mitre/imports/')
      .set('Authorization', await as(superuser))
      .set('Content-Type', 'text/plain')
      .send('hello')
      .expect(415);
    expect(text.type).toBe('application/problem+json');
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const r = await request(api.app)
      .post('/api/v1/mitre/imports/')
      .set('Authorization', await as(superuser))
      .set('Content-Type', 'application/json')
      .send('{"url": ')
      .expect(400);
    expect(r.body.detail).toBe('the request body is not valid JSON');
  });
});

describe('GET /status/', () => {
  it('shows every user the summary and superusers the details', async () => {
    await fixtureLoaded();
    const plain = await request(api.app)
      .get('/api/v1/mitre/status/')
      .set('Authorization', await as(viewer))
      .expect(200);
    expect(plain.body.domains).toEqual([
      expect.objectContaining({ domain: 'enterprise-attack', version: '18.1' }),
    ]);
    expect(plain.body.detailed).toBeUndefined();
    // Viewers get versions and counts: no server paths, database URI, errors or lease holder.
    expect(plain.body.database).toEqual({ reachable: true });
    expect(Object.keys(plain.body.domains[0]).sort()).toEqual([
      'attack_spec_version',
      'domain',
      'last_change_at',
      'last_changelog',
      'last_import_at',
      'release_id',
      'version',
    ]);
    expect(Object.keys(plain.body.sync).sort()).toEqual(['next_run_at', 'running', 'schedule']);
    const full = await request(api.app)
      .get('/api/v1/mitre/status/')
      .set('Authorization', await as(superuser))
      .expect(200);
    expect(full.body.detailed.tactics).toHaveLength(3);
    expect(full.body.database.uri).toMatch(/^bolt/);
    expect(full.body.domains[0].source).toEqual(expect.any(String));
  });
});

describe('GET /me/', () => {
  const me = async (auth: string, tenant?: string) => {
    const r = request(api.app).get('/api/v1/mitre/me/').set('Authorization', auth);
    return tenant ? r.set('X-Tenant', tenant) : r;
  };

  it("names the caller and what Casbin grants it, among the routes' permissions", async () => {
    const v = await me(await as(viewer));
    expect(v.status).toBe(200);
    expect(v.headers['cache-control']).toBe('no-store');
    expect(v.body).toMatchObject({
      subject: 'victor',
      tenant: 'acme',
      tenants: ['acme'],
      roles: ['viewer'],
      superuser: false,
    });
    expect(v.body.permissions).toEqual(['attack:read', 'mappings:read', 'status:read']);
    const a = await me(await as(analyst));
    expect(a.body.permissions).toEqual(
      expect.arrayContaining(['mappings:create', 'mappings:update-own', 'entities:update-own']),
    );
    expect(a.body.permissions).not.toContain('mappings:update-any');
    expect(a.body.permissions).not.toContain('imports:create');
    const root = await me(await as(superuser));
    expect(root.body).toMatchObject({ subject: 'root', tenant: '*', superuser: true });
    expect(root.body.permissions).toEqual(
      expect.arrayContaining(['imports:create', 'sync:create', 'status-details:read']),
    );
  });

  it('answers for the tenant X-Tenant names, and refuses one the token does not grant', async () => {
    const both = await token({ sub: 'carol', tenants: ['acme', 'globex'], roles: ['viewer'] });
    expect((await me(`Bearer ${both}`, 'globex')).body.tenant).toBe('globex');
    expect((await me(await as(viewer), 'globex')).status).toBe(403);
    expect((await request(api.app).get('/api/v1/mitre/me/')).status).toBe(401);
  });
});

describe('the ATT&CK answer cache', () => {
  it('serves the new release once the data version changes, wherever the import ran', async () => {
    await fixtureLoaded();
    const auth = await as(viewer);
    const before = await request(api.app)
      .get('/api/v1/mitre/campaigns/')
      .set('Authorization', auth)
      .expect(200);
    expect(before.body.count).toBe(1);
    // An import by another process: this app learns of it through the data version.
    const bundle = fixtureBundle();
    const campaign = bundle.objects.find((o) => o.type === 'campaign')!;
    bundle.objects = bundle.objects.filter(
      (o) => o.id !== campaign.id && o.source_ref !== campaign.id && o.target_ref !== campaign.id,
    );
    await new ImportService(graph, silentLogger).importBytes(asFetched(bundle));
    const stale = await request(api.app)
      .get('/api/v1/mitre/campaigns/')
      .set('Authorization', auth)
      .expect(200);
    expect(stale.body.count).toBe(1);
    await api.cache.refresh();
    const fresh = await request(api.app)
      .get('/api/v1/mitre/campaigns/')
      .set('Authorization', auth)
      .expect(200);
    expect(fresh.body.count).toBe(0);
  });
});

describe('reference answers as stored bytes', () => {
  const URL = '/api/v1/mitre/techniques/?limit=50';
  /** Neo4j queries the app ran so far, as its own metrics count them (but the scrape's own). */
  const queriesRun = async () => {
    const text = (await request(api.app).get('/metrics').expect(200)).text;
    return [...text.matchAll(/^ttpgraph_neo4j_query_duration_seconds_count\{([^}]*)\} (\d+)$/gm)]
      .filter((m) => !/query="attack\/status-/.test(m[1] as string))
      .map((m) => Number(m[2]))
      .reduce((a, b) => a + b, 0);
  };
  // supertest decodes gzip and brotli by Content-Encoding (failing on bytes that are neither):
  // the body as bytes, to compare with the uncompressed answer.
  const raw = (r: request.Test) =>
    r.buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });

  it('answers each encoding with its own strong tag, and a 304 when the copy is current, without Neo4j', async () => {
    await fixtureLoaded();
    const auth = await as(viewer);
    const plain = await request(api.app)
      .get(URL)
      .set('Authorization', auth)
      .set('Accept-Encoding', 'identity')
      .expect(200);
    expect(plain.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.headers['cache-control']).toBe('public, no-cache');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const br = await raw(
      request(api.app).get(URL).set('Authorization', auth).set('Accept-Encoding', 'gzip, br'),
    ).expect(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.etag).toBe((plain.headers.etag as string).replace(/"$/, '-br"'));
    expect(JSON.parse((br.body as Buffer).toString())).toEqual(plain.body);
    expect(Number(br.headers['content-length'])).toBeLessThan(
      Number(plain.headers['content-length']) / 3,
    );
    const gz = await raw(
      request(api.app).get(URL).set('Authorization', auth).set('Accept-Encoding', 'gzip'),
    ).expect(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse((gz.body as Buffer).toString())).toEqual(plain.body);
    expect(Number(gz.headers['content-length'])).toBeGreaterThan(
      Number(br.headers['content-length']),
    );
    // The security headers are on the stored answer as on any other.
    expect(br.headers['content-security-policy']).toMatch(/default-src 'none'/);

    const before = await queriesRun();
    for (const [encoding, tag] of [
      ['identity', plain.headers.etag],
      ['br', br.headers.etag],
      ['gzip', gz.headers.etag],
    ]) {
      const r = await request(api.app)
        .get(URL)
        .set('Authorization', auth)
        .set('Accept-Encoding', encoding as string)
        .set('If-None-Match', `"other", W/${tag}`)
        .expect(304);
      expect(r.headers.etag).toBe(tag);
      expect(r.headers.vary).toBe('Accept-Encoding');
      expect(r.headers['cache-control']).toBe('public, no-cache');
      expect(r.headers['content-security-policy']).toBeUndefined();
      expect(r.text ?? '').toBe('');
    }
    // A copy in another encoding is another representation: the full answer, from bytes.
    await request(api.app)
      .get(URL)
      .set('Authorization', auth)
      .set('Accept-Encoding', 'gzip')
      .set('If-None-Match', br.headers.etag as string)
      .expect(200);
    const head = await request(api.app)
      .head(URL)
      .set('Authorization', auth)
      .set('Accept-Encoding', 'identity')
      .expect(200);
    expect(head.headers.etag).toBe(plain.headers.etag);
    expect(await queriesRun()).toBe(before);
  });

  it('still asks for the token and the permission before a stored answer or a 304', async () => {
    await fixtureLoaded();
    const stored = await request(api.app)
      .get(URL)
      .set('Authorization', await as(viewer));
    const tag = stored.headers.etag as string;
    await request(api.app).get(URL).set('If-None-Match', tag).expect(401);
    await request(api.app)
      .get(URL)
      .set('Authorization', 'Bearer not.a.token')
      .set('If-None-Match', tag)
      .expect(401);
    const roleless = await as(() => token({ sub: 'nobody', tenant: 'acme', roles: [] }));
    await request(api.app).get(URL).set('Authorization', roleless).expect(403);
    await request(api.app)
      .get(URL)
      .set('Authorization', roleless)
      .set('If-None-Match', tag)
      .expect(403);
  });

  it('keeps tenant answers out of every cache', async () => {
    const r = await request(api.app)
      .get('/api/v1/mitre/alert-mappings/')
      .set('Authorization', await as(analyst))
      .expect(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers.etag).toBeUndefined();
  });

  it('gives a new tag after a release, and has the hot answers ready again', async () => {
    await fixtureLoaded();
    const auth = await as(viewer);
    const old = await request(api.app)
      .get('/api/v1/mitre/campaigns/')
      .set('Authorization', auth)
      .expect(200);
    for (let i = 0; i < 3; i++)
      await request(api.app).get('/api/v1/mitre/campaigns/').set('Authorization', auth);
    const bundle = fixtureBundle();
    const campaign = bundle.objects.find((o) => o.type === 'campaign')!;
    bundle.objects = bundle.objects.filter(
      (o) => o.id !== campaign.id && o.source_ref !== campaign.id && o.target_ref !== campaign.id,
    );
    await new ImportService(graph, silentLogger).importBytes(asFetched(bundle));
    await api.cache.refresh();
    await api.cache.warming;
    const before = await queriesRun();
    const fresh = await request(api.app)
      .get('/api/v1/mitre/campaigns/')
      .set('Authorization', auth)
      .set('If-None-Match', old.headers.etag as string)
      .expect(200);
    expect(fresh.body.count).toBe(0);
    expect(fresh.headers.etag).not.toBe(old.headers.etag);
    // Warmed after the release: answered from bytes.
    expect(await queriesRun()).toBe(before);
  });
});
