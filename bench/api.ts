/**
 * npm run bench:api — the REST API against a floor, side by side in one run.
 *
 * With Enterprise 18.1 loaded, autocannon drives three requests at 50 connections for a fixed
 * duration: a technique detail by ATT&CK id, a filtered technique list and a relationship query.
 * The floor is a bare Express handler running the same Cypher through the driver with no
 * validator, auth or mapping. Both servers run in child processes; this process only loads them.
 * Prints req/s, p50, p99 and errors for both, and the throughput ratio.
 */
import type { ChildProcess } from 'node:child_process';
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

/** Child: the floor, the same Cypher with nothing around it. */
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
  const base = {
    includeRevoked: false,
    includeDeprecated: false,
    domain: null,
    isSubtechnique: null,
    modifiedAfter: null,
    parent: null,
  };
  const app = express();
  // The machine's ceiling: Express answering without any work.
  app.get('/noop', (_req, res) => {
    res.json({});
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
      ...base,
      types: ['attack-pattern'],
      tactic: req.query.tactic,
      platform: req.query.platform,
      limit: Number(req.query.limit),
      offset: 0,
    });
    res.json(r.records[0]?.toObject());
  });
  app.get('/relationships', async (req, res) => {
    const r = await run(q['attack/api-relationships'], {
      type: req.query.relationship_type,
      source: req.query.source,
      target: null,
      includeRevoked: false,
      includeDeprecated: false,
      limit: Number(req.query.limit),
      offset: 0,
      withStix: false,
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
): Promise<Figures> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

async function main(): Promise<void> {
  const cfg = loadConfig();
  const neo = await benchNeo4j();
  const uri = neo.uri;
  const children: ChildProcess[] = [];
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
    for (const s of SCENARIOS) {
      say(`warm-up: ${s.name}`);
      await load(app.url + s.app, auth, 2);
      await load(floor.url + s.floor, {}, 2);
      say(`measuring ${DURATION} s each: ${s.name}`);
      const a = await load(app.url + s.app, auth, DURATION);
      const f = await load(floor.url + s.floor, {}, DURATION);
      const fmt = (x: Figures) =>
        `${x.rps.toFixed(0).padStart(6)} req/s  p50 ${String(x.p50).padStart(3)} ms  p99 ${String(x.p99).padStart(3)} ms  errors ${x.errors}`;
      rows.push(
        `${s.name}\n  api    ${fmt(a)}\n  floor  ${fmt(f)}\n  ratio api/floor throughput ${(a.rps / f.rps).toFixed(2)}  (targets: ≥ 0.7, p99 < 20 ms, 0 errors)`,
      );
    }
    say('measuring the ceiling: a bare Express handler that does nothing');
    const ceiling = await load(`${floor.url}/noop`, {}, DURATION);
    rows.push(
      `ceiling (bare Express, no work, same load generator on the same cores)\n  noop   ${ceiling.rps.toFixed(0).padStart(6)} req/s  p50 ${String(ceiling.p50).padStart(3)} ms  p99 ${String(ceiling.p99).padStart(3)} ms`,
    );
    console.log(
      `${CONNECTIONS} connections, ${DURATION} s per run, Neo4j at ${uri}\n${rows.join('\n')}`,
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await neo.stop();
  }
}

const mode = process.argv[2];
const entry = mode === '--serve-app' ? serveApp : mode === '--serve-floor' ? serveFloor : main;
entry().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
