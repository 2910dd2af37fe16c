/**
 * npm run bench:api — the REST API's reference reads against floors and a ceiling, in one run.
 *
 * With Enterprise 18.1 loaded, autocannon drives each request at 50 connections for a fixed
 * duration, as four clients: one that takes the answer uncompressed, one that accepts brotli (as
 * browsers and most HTTP libraries do), one revalidating with If-None-Match (a 304), and the same
 * bytes served by a bare Express handler (the floor of sending them on this machine). The Cypher
 * floor is the same queries run through the driver per request with nothing cached; the ceiling
 * is a bare Express handler doing nothing, measured before each request's rows. Servers run in
 * child processes; this process only generates load. Targets (issue 15): the compressed client
 * ≥ 0.5× the ceiling's throughput with p99 ≤ 3× its p99; a 304 at least as fast as the ceiling.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import autocannon from 'autocannon';
import express from 'express';
import neo4j from 'neo4j-driver';
import { signDevelopmentToken } from '../src/auth/identity';
import { loadConfig } from '../src/shared/config';
import { loadQueries } from '../src/shared/cypher';
import { openGraph } from '../src/shared/neo4j';
import { BENCH_SECRET, benchNeo4j, loadEnterprise, say, serveApp, spawnServer } from './support';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;
const BROTLI = 'gzip, deflate, br';

const SCENARIOS = [
  {
    name: 'technique detail T1059.001',
    app: '/api/v1/mitre/techniques/T1059.001/',
    floor: '/detail/T1059.001',
  },
  {
    name: 'techniques ?tactic=execution&platform=windows&limit=50',
    app: '/api/v1/mitre/techniques/?tactic=execution&platform=windows&limit=50',
    floor: '/list?tactic=execution&platform=windows&limit=50',
  },
  {
    name: 'relationships ?source=G0016&relationship_type=uses&limit=50',
    app: '/api/v1/mitre/relationships/?source=G0016&relationship_type=uses&limit=50',
    floor: '/relationships?source=G0016&relationship_type=uses&limit=50',
  },
];

/** Child: the floors — the same Cypher with nothing around it, given bytes, and nothing at all. */
async function serveFloor(): Promise<void> {
  const cfg = loadConfig();
  const q = loadQueries([
    'attack/api-get',
    'attack/api-technique-related',
    'attack/api-list',
    'attack/api-relationships',
  ]);
  const driver = neo4j.driver(cfg.neo4j.uri as string, undefined, {
    disableLosslessIntegers: true,
  });
  const run = (query: string, params: Record<string, unknown>) =>
    driver.executeQuery(query, params, {
      database: cfg.neo4j.database,
      routing: neo4j.routing.READ,
    });
  const page = (req: express.Request) => ({ limit: Number(req.query.limit), offset: 0 });
  const app = express();
  app.set('etag', false);
  // The machine's ceiling: Express answering without any work.
  app.get('/noop', (_req, res) => {
    res.json({});
  });
  // Bytes the load generator put in BENCH_BYTES_DIR: the floor of sending an answer.
  const files = new Map<string, Buffer>();
  app.get('/bytes/:name', (req, res) => {
    const name = path.basename(req.params.name);
    let body = files.get(name);
    if (!body) {
      body = readFileSync(path.join(process.env.BENCH_BYTES_DIR as string, name));
      files.set(name, body);
    }
    if (name.endsWith('.br')) res.setHeader('Content-Encoding', 'br');
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(body);
  });
  app.get('/detail/:id', async (req, res) => {
    const r = await run(q['attack/api-get'], {
      id: req.params.id,
      types: ['attack-pattern'],
      withStix: false,
    });
    const obj = r.records[0]?.get('object') as { stix_id: string };
    const rel = await run(q['attack/api-technique-related'], {
      id: obj.stix_id,
      relatedLimit: 100,
    });
    res.json({ object: obj, related: rel.records[0]?.toObject() });
  });
  app.get('/list', async (req, res) => {
    const r = await run(q['attack/api-list'], {
      types: ['attack-pattern'],
      includeRevoked: false,
      includeDeprecated: false,
      domains: null,
      platforms: [String(req.query.platform)],
      isSubtechnique: null,
      modifiedAfter: null,
      tactics: [String(req.query.tactic)],
      parent: null,
      ...page(req),
    });
    res.json(r.records[0]?.toObject());
  });
  app.get('/relationships', async (req, res) => {
    const r = await run(q['attack/api-relationships'], {
      types: [String(req.query.relationship_type)],
      source: req.query.source,
      target: null,
      includeRevoked: false,
      includeDeprecated: false,
      withStix: false,
      ...page(req),
    });
    res.json(r.records[0]?.toObject());
  });
  const srv = app.listen(0, '127.0.0.1', () => {
    const a = srv.address() as { port: number };
    process.stdout.write(`LISTENING http://127.0.0.1:${a.port}\n`);
  });
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  expected = 200,
): Promise<Figures> {
  let unexpected = 0;
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url, connections: CONNECTIONS, duration: seconds, headers },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    instance.on('response', (_client, status) => {
      if (status !== expected) unexpected++;
    });
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    // A 304 counts as non-2xx: what matters is the status each scenario expects.
    errors: r.errors + r.timeouts + unexpected,
  };
}

const fmt = (x: Figures) =>
  `${x.rps.toFixed(0).padStart(6)} req/s  p50 ${String(x.p50).padStart(3)} ms  p99 ${String(x.p99).padStart(4)} ms  errors ${x.errors}`;

async function main(): Promise<void> {
  const cfg = loadConfig();
  const neo = await benchNeo4j();
  const uri = neo.uri;
  const children: ChildProcess[] = [];
  const bytesDir = mkdtempSync(path.join(tmpdir(), 'ttpgraph-bench-bytes-'));
  process.env.BENCH_BYTES_DIR = bytesDir;
  try {
    const graph = await openGraph({ ...cfg.neo4j, uri });
    await loadEnterprise(graph);
    await graph.close();

    const app = await spawnServer(__filename, '--serve-app', uri);
    const floor = await spawnServer(__filename, '--serve-floor', uri);
    children.push(app.proc, floor.proc);
    const authConfig = loadConfig({ ...process.env, JWT_SECRET: BENCH_SECRET }).auth;
    const jwt = await signDevelopmentToken(
      authConfig,
      { sub: 'bench', tenants: ['bench'], roles: ['analyst'], superuser: false },
      3600,
    );
    const auth = { authorization: `Bearer ${jwt}` };

    const rows: string[] = [];
    for (const [i, s] of SCENARIOS.entries()) {
      // The answer as each client gets it: its bytes for the floor, its tag for revalidation.
      const plain = await fetch(app.url + s.app, { headers: auth });
      const br = await fetch(app.url + s.app, {
        headers: { ...auth, 'accept-encoding': BROTLI },
      });
      const plainBytes = Buffer.from(await plain.arrayBuffer());
      // fetch decodes: the encoded size is what Content-Length said.
      await br.arrayBuffer();
      const brTag = br.headers.get('etag') ?? '';
      const brBody = await fetch(app.url + s.app, {
        headers: { ...auth, 'accept-encoding': 'br' },
      }).then(async (r) => Buffer.from(await r.arrayBuffer()));
      if (plain.status !== 200 || br.headers.get('content-encoding') !== 'br' || !brTag)
        throw new Error(`${s.app}: expected a 200 with an ETag and brotli, got ${plain.status}`);
      writeFileSync(path.join(bytesDir, `${i}.json`), plainBytes);
      // The same quality the service uses (the maximum, brotli's default).
      writeFileSync(path.join(bytesDir, `${i}.br`), brotliCompressSync(brBody));
      const brSize = Number(br.headers.get('content-length'));

      say(`warm-up: ${s.name}`);
      await load(app.url + s.app, auth, 2);
      await load(floor.url + s.floor, {}, 2);
      say(`measuring ${DURATION} s each: ${s.name}`);
      const ceiling = await load(`${floor.url}/noop`, {}, DURATION);
      const apiPlain = await load(app.url + s.app, auth, DURATION);
      const bytesPlain = await load(`${floor.url}/bytes/${i}.json`, {}, DURATION);
      const apiBr = await load(app.url + s.app, { ...auth, 'accept-encoding': BROTLI }, DURATION);
      const bytesBr = await load(`${floor.url}/bytes/${i}.br`, {}, DURATION);
      const revalidate = await load(
        app.url + s.app,
        { ...auth, 'accept-encoding': BROTLI, 'if-none-match': brTag },
        DURATION,
        304,
      );
      const cypher = await load(floor.url + s.floor, {}, DURATION);
      const ok = (x: Figures) =>
        x.rps >= 0.5 * ceiling.rps && x.p99 <= 3 * Math.max(1, ceiling.p99) && x.errors === 0;
      rows.push(
        [
          `${s.name}  (${plainBytes.length} bytes; brotli ${brSize})`,
          `  ceiling: bare Express, no work        ${fmt(ceiling)}`,
          `  api, uncompressed                     ${fmt(apiPlain)}   ${(apiPlain.rps / ceiling.rps).toFixed(2)}× ceiling`,
          `  floor: bare Express, same bytes       ${fmt(bytesPlain)}   ${(bytesPlain.rps / ceiling.rps).toFixed(2)}× ceiling`,
          `  api, brotli (Accept-Encoding: ${BROTLI})  ${fmt(apiBr)}   ${(apiBr.rps / ceiling.rps).toFixed(2)}× ceiling, p99 ${(apiBr.p99 / Math.max(1, ceiling.p99)).toFixed(1)}×  ${ok(apiBr) ? 'meets' : 'MISSES'} ≥ 0.5×, p99 ≤ 3×`,
          `  floor: bare Express, same brotli      ${fmt(bytesBr)}   ${(bytesBr.rps / ceiling.rps).toFixed(2)}× ceiling`,
          `  api, 304 (If-None-Match)              ${fmt(revalidate)}   ${(revalidate.rps / ceiling.rps).toFixed(2)}× ceiling  ${revalidate.rps >= ceiling.rps && revalidate.errors === 0 ? 'meets' : 'MISSES'} ≥ 1×`,
          `  Cypher per request, nothing cached    ${fmt(cypher)}   ${(cypher.rps / ceiling.rps).toFixed(2)}× ceiling`,
        ].join('\n'),
      );
    }
    console.log(
      `${CONNECTIONS} connections, ${DURATION} s per run, Neo4j at ${uri}\n${rows.join('\n')}`,
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    rmSync(bytesDir, { recursive: true, force: true });
    await neo.stop();
  }
}

const mode = process.argv[2];
const entry = mode === '--serve-app' ? serveApp : mode === '--serve-floor' ? serveFloor : main;
entry().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
