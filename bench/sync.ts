/**
 * npm run bench:sync — what a sync costs, through the sync pipeline against a local HTTP source
 * that serves MITRE's index.json and the real bundles (17.1, 18.0, 18.1) with ETags.
 *
 * After one sync of each kind to warm up, side by side in each round, on an emptied database: a full sync of 18.1 (download, diff, write),
 * then 17.1 → 18.0 and 18.0 → 18.1 as index updates, then no-change polls (one conditional
 * request each). Prints medians, the update/full ratios, and the requests and write statements
 * of a no-change poll.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ImportService } from '../src/attack/import-service';
import { applySchema } from '../src/attack/schema';
import { MappingService } from '../src/mappings/mapping-service';
import { ATTACK_COLLECTIONS, loadConfig } from '../src/shared/config';
import { createLogger } from '../src/shared/logger';
import { openGraph } from '../src/shared/neo4j';
import { SyncService } from '../src/sync/sync-service';
import { AttackSource } from '../test/support/sync-sources';
import { ATTACK_DATA, benchNeo4j, emptyDatabase, median, percentile, say } from './support';

const ROUNDS = Number(process.env.BENCH_RUNS ?? 3);
const POLLS = Number(process.env.BENCH_POLLS ?? 20);
const MODIFIED: Record<string, string> = {
  '17.1': '2025-05-06T14:00:00.188Z',
  '18.0': '2025-10-28T14:00:00.188Z',
  '18.1': '2025-11-13T14:00:00.188Z',
};
const bundlePath = (v: string) => `/enterprise-attack/enterprise-attack-${v}.json`;

async function main(): Promise<void> {
  const neo = await benchNeo4j();
  const writes: string[] = [];
  const graph = await openGraph({ ...loadConfig().neo4j, uri: neo.uri }, (name, mode) => {
    if (mode === 'WRITE') writes.push(name);
  });
  const source = await new AttackSource().start();
  for (const v of Object.keys(MODIFIED)) {
    source.files.set(
      bundlePath(v),
      readFileSync(path.join(ATTACK_DATA, `enterprise-attack-${v}.json.gz`)),
    );
  }
  const list = (...versions: string[]) =>
    source.setIndex(
      versions.map((version) => ({
        domain: 'enterprise-attack',
        collection: ATTACK_COLLECTIONS['enterprise-attack'] as string,
        version,
        path: bundlePath(version),
        modified: MODIFIED[version] as string,
      })),
    );
  const config = loadConfig({
    ...process.env,
    NEO4J_URI: neo.uri,
    TTPGRAPH_SYNC_INDEX_URL: `${source.base}/index.json`,
  });
  const log = createLogger('silent');
  const mappings = new MappingService(graph);
  const importer = new ImportService(graph, log, config.importBatchSize, () =>
    mappings.applyRelease(),
  );
  const sync = new SyncService(graph, importer, config, log);
  const timed = async (what: string) => {
    const t0 = performance.now();
    const run = await sync.run({ trigger: 'cli' });
    const ms = performance.now() - t0;
    if (run.state !== 'succeeded' && run.state !== 'unchanged')
      throw new Error(`${what}: ${run.state} ${run.error}`);
    return { ms, run };
  };

  const full: number[] = [];
  const u180: number[] = [];
  const u181: number[] = [];
  const polls: number[] = [];
  let pollRequests = 0;
  let pollWrites: string[] = [];
  let attackWrites = 0;
  try {
    const fullSync = async () => {
      await emptyDatabase(graph);
      await applySchema(graph);
      list('18.1');
      return (await timed('full 18.1')).ms;
    };
    const updates = async () => {
      await emptyDatabase(graph);
      await applySchema(graph);
      list('17.1');
      await timed('17.1');
      list('17.1', '18.0');
      const to180 = (await timed('17.1 → 18.0')).ms;
      list('17.1', '18.0', '18.1');
      return [to180, (await timed('18.0 → 18.1')).ms] as const;
    };
    // Not counted: the first sync of each kind pays for the JVM's, V8's and the query planner's
    // warm-up (the update's diff paths and statements are not those of a full sync).
    say('warm-up: one full sync of 18.1, then 17.1 → 18.0 → 18.1');
    await fullSync();
    await updates();
    for (let r = 1; r <= ROUNDS; r++) {
      say(`round ${r}/${ROUNDS}: full sync of 18.1 into an empty graph`);
      full.push(await fullSync());
      say(`round ${r}/${ROUNDS}: 17.1, then the index moves to 18.0 and 18.1`);
      const [a, b] = await updates();
      u180.push(a);
      u181.push(b);

      say(`round ${r}/${ROUNDS}: ${POLLS} no-change polls`);
      const state = () =>
        graph.read<{ v: string }>(
          `MATCH (d:AttackDomain) RETURN d.name + d.version + toString(d.last_import_at) +
             toString(COUNT { (:AttackObject) }) + toString(COUNT { ()-[:USES]->() }) AS v`,
        );
      const before = JSON.stringify(await state());
      for (let i = 0; i < POLLS; i++) {
        const asked = source.requests.length;
        writes.length = 0;
        const { ms, run } = await timed('poll');
        if (run.state !== 'unchanged') throw new Error(`a no-change poll answered ${run.state}`);
        polls.push(ms);
        pollRequests = Math.max(pollRequests, source.requests.length - asked);
        if (writes.length > pollWrites.length) pollWrites = [...writes];
      }
      if (JSON.stringify(await state()) !== before) attackWrites++;
    }
  } finally {
    await source.stop();
    await graph.close();
    await neo.stop();
  }
  const rounds = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(', ');
  const f = median(full);
  const a = median(u180);
  const b = median(u181);
  console.log(
    [
      `full sync of 18.1 (empty graph)   median ${(f / 1000).toFixed(2)} s  (${rounds(full)})`,
      `update 17.1 → 18.0                median ${(a / 1000).toFixed(2)} s  → ${(a / f).toFixed(2)} of a full sync  (${rounds(u180)})`,
      `update 18.0 → 18.1                median ${(b / 1000).toFixed(2)} s  → ${(b / f).toFixed(2)} of a full sync (target ≤ 0.25)  (${rounds(u181)})`,
      `no-change poll                    median ${median(polls).toFixed(1)} ms  p99 ${percentile(polls, 99).toFixed(1)} ms  (target < 200 ms)`,
      `  requests to the source per poll: ${pollRequests} (a conditional GET answered 304); ATT&CK data changed by polls: ${attackWrites === 0 ? 'no' : 'YES'}`,
      `  write statements per poll: ${pollWrites.length}${pollWrites.length ? ` (${pollWrites.join(', ')})` : ''} (target 0; one quiet poll per TTPGRAPH_SYNC_HEARTBEAT_MS, 1 h, is recorded)`,
    ].join('\n'),
  );
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
