/**
 * npm run bench:reports — reporting latency on the full Enterprise graph, one client at a time.
 *
 * With Enterprise 18.1 loaded and 100,000 alert mappings over 10 tenants (1,000 alerts in 200
 * incidents each, over 60 days), tenant bench-0 gets an incident of 50 techniques across 10 alerts
 * and 200 observables. Each route is asked BENCH_RUNS times in turn (after a warm-up), and the
 * Cypher it runs is run the same number of times through the driver alone (the floor): kill
 * chain, next steps, paths, the report as JSON, the dashboard breakdown. Then `ttpgraph
 * next-steps` over 2,000 lines. Prints p50/p99 and the floor's. The service runs in a child
 * process, as deployed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { accessParams } from '../src/auth/access';
import { signDevelopmentToken } from '../src/auth/identity';
import { loadConfig } from '../src/shared/config';
import { loadQueries } from '../src/shared/cypher';
import { createLogger } from '../src/shared/logger';
import { NextSteps } from '../src/reporting/next-steps';
import type { Graph } from '../src/shared/neo4j';
import {
  BENCH_SECRET,
  enterpriseGraph,
  median,
  percentile,
  say,
  serveApp,
  spawnServer,
} from './support';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
const TENANTS = 10;
const PER_TENANT = 10_000;
const INCIDENT = 'I-BIG';
const DAY = 86_400_000;

const q = loadQueries([
  'reporting/incident-techniques',
  'reporting/matrix-tactics',
  'mappings/resolve-techniques',
  'reporting/next-steps-history',
  'reporting/coverage',
  'reporting/attack-versions',
  'reporting/dashboard-breakdown',
  'reporting/dashboard-totals',
  'reporting/dashboard-phases',
]);

async function seed(
  graph: Graph,
  post: (tenant: string, kind: string, items: object[]) => Promise<void>,
  techniques: string[],
): Promise<void> {
  const [held] = await graph.read<{ n: number }>(
    `MATCH (m:Mapping) WHERE m.tenant STARTS WITH 'bench-' RETURN count(m) AS n`,
  );
  if ((held?.n ?? 0) >= TENANTS * PER_TENANT) {
    say(`the graph holds ${held?.n} bench mappings already`);
    return;
  }
  const start = Date.UTC(2026, 0, 1);
  for (let t = 0; t < TENANTS; t++) {
    const tenant = `bench-${t}`;
    say(`seeding ${tenant}: ${PER_TENANT.toLocaleString('en')} alert mappings`);
    await post(
      tenant,
      'alert',
      Array.from({ length: PER_TENANT }, (_, i) => ({
        alert_id: `A-${i % 1_000}`,
        incident_id: `I-${i % 200}`,
        technique: techniques[(i * 7 + t) % techniques.length],
        occurred_at: new Date(start + ((i * 37) % (60 * 24)) * (DAY / 24)).toISOString(),
        source: 'rule',
      })),
    );
  }
  // The incident measured: 50 techniques over 10 alerts (5 each) and 200 observables (20 per
  // alert, each naming one of its alert's techniques).
  const picked = techniques.filter((_, i) => i % 13 === 0).slice(0, 50);
  const alertItems = picked.map((technique, i) => ({
    alert_id: `A-BIG-${i % 10}`,
    incident_id: INCIDENT,
    technique,
    occurred_at: new Date(start + i * 3_600_000).toISOString(),
  }));
  await post('bench-0', 'alert', alertItems);
  await post(
    'bench-0',
    'observable',
    Array.from({ length: 200 }, (_, i) => ({
      observable_id: `O-BIG-${i}`,
      alert_id: `A-BIG-${i % 10}`,
      technique: picked[(i % 10) + 10 * (Math.floor(i / 10) % 5)],
    })),
  );
}

interface Row {
  name: string;
  ms: number[];
  floor: number[];
  target: number;
}

async function time(work: () => Promise<unknown>, runs: number): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await work();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await work();
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const { graph, uri, stop } = await enterpriseGraph();
  const active = await graph.read<{ id: string }>(
    `MATCH (t:Technique) WHERE NOT t.revoked AND NOT t.deprecated
     RETURN t.attack_id AS id ORDER BY id`,
  );
  const techniques = active.map((r) => r.id);
  const authConfig = loadConfig({ ...process.env, JWT_SECRET: BENCH_SECRET }).auth;
  const server = await spawnServer(__filename, '--serve-app', uri);
  const tokenFor = (tenant: string) =>
    signDevelopmentToken(
      authConfig,
      { sub: 'bench', tenants: [tenant], roles: ['analyst'], superuser: false },
      3600,
    );
  const call = async (tenant: string, method: string, url: string, body?: object) => {
    const res = await fetch(`${server.url}/api/v1/mitre${url}`, {
      method,
      headers: {
        authorization: `Bearer ${await tokenFor(tenant)}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
    return text;
  };
  try {
    await seed(
      graph,
      (t, kind, items) =>
        call(t, 'POST', `/${kind}-mappings/bulk/`, { items }).then(() => undefined),
      techniques,
    );
    const token = await tokenFor('bench-0');
    const get = (url: string) => () =>
      fetch(`${server.url}/api/v1/mitre${url}`, {
        headers: { authorization: `Bearer ${token}` },
      }).then(async (r) => {
        if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
        return r.arrayBuffer();
      });
    // The floor: each route's statements through the driver, in the order the service runs them.
    const tenant = 'bench-0';
    // The floor reads as the bench's user does (entity access's parameters, nothing restricted).
    const viewer = accessParams({ userId: 'bench', groups: [], superuser: false });
    const [row] = await graph.read<{
      techniques: Array<{ technique: string; mappings: unknown[] }>;
    }>(q['reporting/incident-techniques'], { tenant, id: INCIDENT, ...viewer });
    const ids = (row?.techniques ?? []).map((t) => t.technique);
    const mappings = (row?.techniques ?? []).reduce((n, t) => n + t.mappings.length, 0);
    say(`incident ${INCIDENT}: ${ids.length} techniques, ${mappings} mappings`);
    const stix = (
      await graph.read<{ activeStixId: string }>(q['mappings/resolve-techniques'], { ids })
    ).map((r) => r.activeStixId);
    const incident = () =>
      graph.read(q['reporting/incident-techniques'], { tenant, id: INCIDENT, ...viewer });
    const resolve = () => graph.read(q['mappings/resolve-techniques'], { ids });
    // The past incidents are looked up through each observed parent's sub-techniques too.
    const family = (await new NextSteps(graph, createLogger('warn')).snapshot()).family(stix);
    const history = () =>
      graph.read(q['reporting/next-steps-history'], {
        tenant,
        observed: family,
        exclude: INCIDENT,
        limit: 50,
        ...viewer,
      });
    const coverage = () => graph.read(q['reporting/coverage'], { techniques: stix });
    const window = {
      tenants: [tenant],
      entity: 'alert',
      from: '2026-01-01T00:00:00Z',
      to: '2026-03-01T00:00:00Z',
      by: 'technique',
      bucket: 'week',
      ...viewer,
    };
    const floors: Record<string, () => Promise<unknown>> = {
      'kill-chain': () => Promise.all([incident(), graph.read(q['reporting/matrix-tactics'])]),
      'next-steps': async () => {
        await incident();
        await resolve();
        await history();
      },
      paths: async () => {
        await incident();
        await resolve();
        await history();
        await coverage();
      },
      report: async () => {
        await Promise.all([
          incident(),
          graph.read(q['reporting/matrix-tactics']),
          graph.read(q['reporting/attack-versions']),
        ]);
        await resolve();
        await Promise.all([history(), coverage()]);
      },
      'dashboard breakdown': () =>
        Promise.all([
          graph.read(q['reporting/dashboard-breakdown'], { ...window, bucket: null }),
          graph.read(q['reporting/dashboard-breakdown'], window),
          graph.read(q['reporting/dashboard-totals'], window),
          graph.read(q['reporting/dashboard-phases'], window),
        ]),
    };
    const from = encodeURIComponent(window.from);
    const to = encodeURIComponent(window.to);
    const routes: Array<[string, string, number]> = [
      ['kill-chain', `/incidents/${INCIDENT}/kill-chain/`, 100],
      ['next-steps', `/incidents/${INCIDENT}/next-steps/`, 100],
      ['paths', `/incidents/${INCIDENT}/paths/?to=exfiltration`, 100],
      ['report', `/incidents/${INCIDENT}/report/`, 100],
      [
        'dashboard breakdown',
        `/dashboard/breakdown/?by=technique&entity=alert&bucket=week&from=${from}&to=${to}`,
        200,
      ],
    ];
    const rows: Row[] = [];
    for (const [name, url, target] of routes) {
      say(`${name}: ${RUNS} requests, then its Cypher ${RUNS} times through the driver`);
      const ms = await time(get(url), RUNS);
      const floor = await time(floors[name] as () => Promise<unknown>, RUNS);
      rows.push({ name, ms, floor, target });
    }
    const f = (x: number) => x.toFixed(1).padStart(8);
    console.log('route                 p50 ms   p99 ms  target | Cypher alone: p50 ms   p99 ms');
    for (const r of rows)
      console.log(
        `${r.name.padEnd(20)}${f(median(r.ms))} ${f(percentile(r.ms, 99))}  ${String(r.target).padStart(6)} |              ${f(median(r.floor))} ${f(percentile(r.floor, 99))}`,
      );

    say('ttpgraph next-steps over 2,000 lines');
    const dir = mkdtempSync(path.join(tmpdir(), 'ttpgraph-bench-'));
    try {
      const file = path.join(dir, 'lines.jsonl');
      writeFileSync(
        file,
        Array.from({ length: 2_000 }, (_, i) =>
          JSON.stringify({
            id: `line-${i}`,
            techniques: Array.from(
              { length: 3 + (i % 8) },
              (_, k) => techniques[(i * 31 + k * 17) % techniques.length],
            ),
          }),
        ).join('\n'),
      );
      const t0 = performance.now();
      const out = spawnSync(
        process.execPath,
        [path.resolve(__dirname, '../src/cli/main.js'), 'next-steps', '--input', file, '--json'],
        { env: { ...process.env, NEO4J_URI: uri }, encoding: 'utf8', maxBuffer: 1 << 30 },
      );
      const seconds = (performance.now() - t0) / 1000;
      if (out.status !== 0) throw new Error(`next-steps exited ${out.status}: ${out.stderr}`);
      const lines = out.stdout.trim().split('\n').length;
      console.log(
        `ttpgraph next-steps: ${lines} lines (top 50 each) in ${seconds.toFixed(1)} s, whole process (target 10 s)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    server.proc.kill();
    await stop();
  }
}

(process.argv[2] === '--serve-app' ? serveApp : main)().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
