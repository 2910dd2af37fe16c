/**
 * npm run bench:bounds — what a caller can make the service hold or wait for.
 *
 * 1. Heap of the service (its own /metrics) before and after 1,000 requests for distinct large
 *    pages (limit=1000, every offset and filter different), with the default byte-bounded answer
 *    cache and, in the same run, with a budget so large that only the entry count would bound it
 *    (what the cache was before).
 * 2. /healthz latency alone, then while three clients send 16 MB bodies to a path that does not
 *    exist.
 * The service runs in a child process on Enterprise 18.1.
 */
import http from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { signDevelopmentToken } from '../src/auth/identity';
import { loadConfig } from '../src/shared/config';
import { openGraph } from '../src/shared/neo4j';
import {
  BENCH_SECRET,
  benchNeo4j,
  loadEnterprise,
  median,
  percentile,
  say,
  serveApp,
  spawnServer,
} from './support';

const PAGES = Number(process.env.BENCH_PAGES ?? 1000);
const HEALTH_PROBES = Number(process.env.BENCH_PROBES ?? 300);

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The service's own memory as its /metrics says: V8 heap, memory outside it (Buffers), RSS. */
async function memory(base: string): Promise<{ heap: number; external: number; rss: number }> {
  const { body } = await get(`${base}/metrics`);
  const mb = (name: string) =>
    Number(new RegExp(`^ttpgraph_${name} (\\d+(?:\\.\\d+)?)`, 'm').exec(body)?.[1] ?? NaN) /
    1024 /
    1024;
  return {
    heap: mb('nodejs_heap_size_used_bytes'),
    external: mb('nodejs_external_memory_bytes'),
    rss: mb('process_resident_memory_bytes'),
  };
}

/** 1,000 distinct large pages, a few at a time, as a busy UI or a crawler would ask. */
async function largePages(base: string, auth: string): Promise<number> {
  const urls: string[] = [];
  const lists = ['relationships', 'techniques', 'software', 'groups', 'data-components'];
  for (let i = 0; urls.length < PAGES; i++) {
    const list = lists[i % lists.length] as string;
    urls.push(`${base}/api/v1/mitre/${list}/?limit=1000&offset=${Math.floor(i / lists.length)}`);
  }
  let failed = 0;
  for (let i = 0; i < urls.length; i += 4) {
    const batch = await Promise.all(
      urls.slice(i, i + 4).map((u) => get(u, { authorization: auth })),
    );
    failed += batch.filter((r) => r.status !== 200).length;
    if (i % 200 === 0) say(`  ${i}/${urls.length} pages`);
  }
  return failed;
}

function postBig(base: string, body: Buffer, until: () => boolean): Promise<number> {
  let sent = 0;
  const once = () =>
    new Promise<void>((resolve) => {
      const req = http.request(
        `${base}/wrong/path`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', () => resolve());
      req.end(body);
    });
  return (async () => {
    while (!until()) {
      await once();
      sent++;
    }
    return sent;
  })();
}

async function probeHealth(base: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < HEALTH_PROBES; i++) {
    const t = process.hrtime.bigint();
    await get(`${base}/healthz`);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return times;
}

async function main(): Promise<void> {
  const cfg = loadConfig();
  const neo = await benchNeo4j();
  const children: ChildProcess[] = [];
  try {
    const graph = await openGraph({ ...cfg.neo4j, uri: neo.uri });
    await loadEnterprise(graph);
    await graph.close();
    const jwt = await signDevelopmentToken(
      loadConfig({ ...process.env, JWT_SECRET: BENCH_SECRET }).auth,
      { sub: 'bench', tenants: ['bench'], roles: ['viewer'], superuser: false },
      3600,
    );
    const auth = `Bearer ${jwt}`;
    const rows: string[] = [];
    for (const [label, bytes] of [
      ['default cache (64 MB)', undefined],
      ['unbounded cache (8 GB budget)', String(8 * 1024 ** 3)],
    ] as const) {
      if (bytes === undefined) delete process.env.TTPGRAPH_CACHE_BYTES;
      else process.env.TTPGRAPH_CACHE_BYTES = bytes;
      const app = await spawnServer(__filename, '--serve-app', neo.uri);
      children.push(app.proc);
      await get(`${app.url}/api/v1/mitre/tactics/`, { authorization: auth });
      const before = await memory(app.url);
      say(`${label}: ${PAGES} large pages`);
      const failed = await largePages(app.url, auth);
      const after = await memory(app.url);
      const fmt = (m: typeof before) =>
        `heap ${m.heap.toFixed(0)} + outside heap ${m.external.toFixed(0)} MB (RSS ${m.rss.toFixed(0)} MB)`;
      rows.push(
        `${label.padEnd(30)} ${fmt(before)} → ${fmt(after)} after ${PAGES} large pages (${failed} failed)`,
      );
      app.proc.kill('SIGTERM');
    }

    const app = await spawnServer(__filename, '--serve-app', neo.uri);
    children.push(app.proc);
    say('/healthz alone');
    const alone = await probeHealth(app.url);
    say('/healthz while three clients send 16 MB bodies to a wrong path');
    const big = Buffer.alloc(16 * 1024 * 1024, 0x20);
    let done = false;
    const senders = [0, 1, 2].map(() => postBig(app.url, big, () => done));
    await new Promise((r) => setTimeout(r, 500));
    const loaded = await probeHealth(app.url);
    done = true;
    const sent = (await Promise.all(senders)).reduce((a, b) => a + b, 0);
    const fmt = (xs: number[]) =>
      `p50 ${median(xs).toFixed(1)} ms  p99 ${percentile(xs, 99).toFixed(1)} ms`;
    rows.push(`/healthz alone                 ${fmt(alone)}`);
    rows.push(
      `/healthz beside 3 × 16 MB posts ${fmt(loaded)}  (${sent} bodies of 16 MB sent meanwhile)`,
    );
    console.log(rows.join('\n'));
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await neo.stop();
  }
}

const entry = process.argv[2] === '--serve-app' ? serveApp : main;
entry().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
