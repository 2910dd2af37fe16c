/**
 * npm run bench:load — two replicas of the service on one Neo4j (Enterprise 18.1) under 100
 * connections for 60 s of a SOC's mix: reference reads, single and bulk mapping writes, mapping
 * lists, incident kill chains and reports, enrichment and dashboards. Prints p50/p99 and errors per
 * route, throughput, and each replica's RSS before, during (peak) and after the load. Targets
 * (issue 16): zero errors; RSS after the load within 150 MB of before (no growth with traffic).
 * BENCH_SECONDS and BENCH_CONNECTIONS change the run.
 */
import { readFileSync } from 'node:fs';
import { signDevelopmentToken } from '../src/auth/identity';
import { loadConfig } from '../src/shared/config';
import { BENCH_SECRET, enterpriseGraph, percentile, say, serveApp, spawnServer } from './support';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const RSS_BOUND_MB = 150;
const TENANTS = 10;
const TECHNIQUES = ['T1059', 'T1059.001', 'T1566.001', 'T1003.001', 'T1055', 'T1021.002', 'T1486'];
const TEXTS = [
  'powershell.exe -nop -w hidden -enc JABzAD0ATgBlAHcALQBPAGIAagBlAGMAdAA=',
  'Adversary dumped credentials from LSASS memory using procdump',
  'Scheduled task created for persistence via schtasks /create /sc onlogon',
  'Files encrypted and ransom note dropped on every share',
  'Spearphishing attachment with a macro-enabled document',
];

interface Request {
  route: string;
  /** Sent as X-Tenant: the token names every tenant. */
  tenant?: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
let seq = 0;

/** One request of the mix, by weight (out of 100). */
function nextRequest(): Request {
  const tenant = `t${Math.floor(Math.random() * TENANTS)}`;
  const r = Math.random() * 100;
  if (r < 20)
    return {
      route: 'GET techniques/{id}/',
      method: 'GET',
      path: `/techniques/${pick(TECHNIQUES)}/`,
    };
  if (r < 28)
    return {
      route: 'GET techniques/?tactic&platform',
      method: 'GET',
      path: '/techniques/?tactic=execution&platform=windows&limit=50',
    };
  if (r < 33)
    return {
      route: 'GET relationships/?source&type',
      method: 'GET',
      path: '/relationships/?source=G0016&relationship_type=uses&limit=50',
    };
  if (r < 48)
    return {
      route: 'POST alert-mappings/',
      tenant,
      method: 'POST',
      path: `/alert-mappings/`,
      body: { alert_id: `L-${process.pid}-${seq++}`, technique: pick(TECHNIQUES) },
    };
  if (r < 52) {
    const base = seq;
    seq += 100;
    return {
      route: 'POST alert-mappings/bulk/ (100)',
      tenant,
      method: 'POST',
      path: `/alert-mappings/bulk/`,
      body: {
        items: Array.from({ length: 100 }, (_, i) => ({
          alert_id: `LB-${process.pid}-${base + i}`,
          technique: pick(TECHNIQUES),
        })),
      },
    };
  }
  if (r < 67)
    return {
      route: 'GET alert-mappings/?technique',
      tenant,
      method: 'GET',
      path: `/alert-mappings/?technique=${pick(TECHNIQUES)}&limit=50`,
    };
  if (r < 75)
    return {
      route: 'GET incidents/{id}/kill-chain/',
      tenant,
      method: 'GET',
      path: `/incidents/INC-${Math.floor(Math.random() * 20)}/kill-chain/`,
    };
  if (r < 80)
    return {
      route: 'GET incidents/{id}/report/',
      tenant,
      method: 'GET',
      path: `/incidents/INC-${Math.floor(Math.random() * 20)}/report/`,
    };
  if (r < 92)
    return {
      route: 'POST enrich/ (5 items)',
      method: 'POST',
      path: '/enrich/',
      body: { items: TEXTS.map((text, i) => ({ id: String(i), text })) },
    };
  return {
    route: 'GET dashboard/breakdown/',
    tenant,
    method: 'GET',
    path: `/dashboard/breakdown/?by=tactic&entity=alert`,
  };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function main(): Promise<void> {
  const { graph, uri, stop } = await enterpriseGraph();
  await graph.close();
  const replicas = [
    await spawnServer(__filename, '--serve-app', uri),
    await spawnServer(__filename, '--serve-app', uri),
  ];
  try {
    const authConfig = loadConfig({ ...process.env, JWT_SECRET: BENCH_SECRET }).auth;
    const jwt = await signDevelopmentToken(
      authConfig,
      {
        sub: 'bench',
        tenants: Array.from({ length: TENANTS }, (_, i) => `t${i}`),
        roles: ['analyst'],
        superuser: false,
      },
      3600,
    );
    const headers = { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' };
    const send = (base: string, req: Request) =>
      fetch(`${base}/api/v1/mitre${req.path}`, {
        method: req.method,
        headers: req.tenant ? { ...headers, 'x-tenant': req.tenant } : headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
      });
    // Incidents for the reports: each with alerts mapped along a kill chain.
    say('creating incidents and warming both replicas (the enrichment model builds at start)');
    for (let t = 0; t < TENANTS; t++) {
      const items = Array.from({ length: 20 }, (_, i) =>
        TECHNIQUES.map((technique, k) => ({
          alert_id: `INC-${i}-A${k}`,
          incident_id: `INC-${i}`,
          technique,
          occurred_at: new Date(Date.UTC(2026, 10, 1, k)).toISOString(),
        })),
      ).flat();
      const r = await send(replicas[0]!.url, {
        route: '',
        tenant: `t${t}`,
        method: 'POST',
        path: `/alert-mappings/bulk/`,
        body: { items },
      });
      if (r.status !== 201) throw new Error(`setup bulk: ${r.status} ${await r.text()}`);
    }
    for (const rep of replicas) {
      for (let i = 0; i < 200; i++) {
        const r = await send(rep.url, nextRequest());
        await r.arrayBuffer();
      }
    }
    const pids = replicas.map((r) => r.proc.pid as number);
    const before = pids.map(rssMb);
    const peak = [...before];
    const latencies = new Map<string, number[]>();
    const errors = new Map<string, string[]>();
    let done = 0;
    const endAt = Date.now() + SECONDS * 1000;
    say(`${CONNECTIONS} connections for ${SECONDS} s over two replicas`);
    const sampler = setInterval(() => {
      pids.forEach((pid, i) => (peak[i] = Math.max(peak[i] as number, rssMb(pid))));
      say(`${done} requests, RSS ${pids.map((p) => rssMb(p).toFixed(0)).join(' / ')} MB`);
    }, 5_000);
    const worker = async (w: number) => {
      const base = replicas[w % replicas.length]!.url;
      while (Date.now() < endAt) {
        const req = nextRequest();
        const started = performance.now();
        let failure: string | undefined;
        try {
          const r = await send(base, req);
          const text = await r.text();
          if (r.status >= 400) failure = `${r.status} ${text.slice(0, 160)}`;
        } catch (err) {
          failure = (err as Error).message;
        }
        const ms = performance.now() - started;
        done++;
        if (failure) errors.set(req.route, [...(errors.get(req.route) ?? []), failure]);
        else latencies.set(req.route, [...(latencies.get(req.route) ?? []), ms]);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    await new Promise((r) => setTimeout(r, 10_000));
    const after = pids.map(rssMb);

    const rows = [...new Set([...latencies.keys(), ...errors.keys()])].sort().map((route) => {
      const xs = latencies.get(route) ?? [];
      const bad = errors.get(route) ?? [];
      return `  ${route.padEnd(36)} ${String(xs.length + bad.length).padStart(7)}  p50 ${percentile(xs, 50).toFixed(1).padStart(7)} ms  p99 ${percentile(xs, 99).toFixed(1).padStart(8)} ms  errors ${bad.length}${bad.length ? `  (${bad[0]})` : ''}`;
    });
    const totalErrors = [...errors.values()].reduce((n, xs) => n + xs.length, 0);
    const growth = after.map((a, i) => a - (before[i] as number));
    console.log(
      [
        `${CONNECTIONS} connections, ${SECONDS} s, 2 replicas on Neo4j at ${uri}: ${done} requests, ${(done / elapsed).toFixed(0)} req/s`,
        ...rows,
        `errors: ${totalErrors}  ${totalErrors === 0 ? 'meets' : 'MISSES'} zero errors`,
        ...pids.map(
          (_, i) =>
            `replica ${i + 1} RSS: before ${before[i]!.toFixed(0)} MB, peak ${peak[i]!.toFixed(0)} MB, after ${after[i]!.toFixed(0)} MB (growth ${growth[i]!.toFixed(0)} MB)  ${growth[i]! <= RSS_BOUND_MB ? 'meets' : 'MISSES'} ≤ ${RSS_BOUND_MB} MB`,
        ),
      ].join('\n'),
    );
  } finally {
    for (const r of replicas) r.proc.kill('SIGTERM');
    await stop();
  }
}

const entry = process.argv[2] === '--serve-app' ? serveApp : main;
entry().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
