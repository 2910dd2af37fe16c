import { ATTACK_DATA, benchNeo4j, emptyDatabase, median, say } from './support';
/**
 * npm run bench:import — the import pipeline against the floor of this Neo4j on this machine.
 *
 * Side by side in one run, on an emptied database each time:
 *  - full import of Enterprise 18.1 (bytes → graph, in a child process so its peak RSS is its own);
 *  - the floor: the same nodes and edges written with bare `UNWIND … CREATE` statements in one
 *    transaction, rows prepared beforehand;
 *  - re-import of the unchanged bundle (same bytes; and same content re-serialised, which takes the
 *    full diff path), and the 18.0 → 18.1 update.
 * Prints medians and ratios. Neo4j: NEO4J_URI, or the local launcher on a free port.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseBundle } from '../src/attack/bundle';
import { sha256Bytes } from '../src/attack/bundle-source';
import { ImportService } from '../src/attack/import-service';
import { canonical, derivedEdges, edgeRow, nodeRow, type EdgeRow } from '../src/attack/model';
import { applySchema } from '../src/attack/schema';
import { loadConfig } from '../src/shared/config';
import { createLogger } from '../src/shared/logger';
import { openGraph, type Graph } from '../src/shared/neo4j';

const DATA = ATTACK_DATA;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const E181 = path.join(DATA, 'enterprise-attack-18.1.json.gz');
const E180 = path.join(DATA, 'enterprise-attack-18.0.json.gz');

interface ChildResult {
  ms: number;
  maxRssMb: number;
  changed: boolean;
  nodes: number;
  edges: number;
}

/** Child mode: one import, timed from bytes on disk to commit; reports its own peak RSS. */
async function child(file: string): Promise<void> {
  const cfg = loadConfig();
  const graph = await openGraph({ ...cfg.neo4j, uri: cfg.neo4j.uri as string });
  const importer = new ImportService(graph, createLogger('silent'), cfg.importBatchSize);
  const t0 = process.hrtime.bigint();
  const bytes = readFileSync(file);
  const r = await importer.importBytes({
    bytes,
    source: file,
    sha256: sha256Bytes(bytes),
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await graph.close();
  const result: ChildResult = {
    ms,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    changed: r.changed,
    nodes: r.totals.added - (r.byType.relationship?.added ?? 0),
    edges: r.byType.relationship?.added ?? 0,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

function runChild(file: string, uri: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [__filename, '--child', file], {
      env: { ...process.env, NEO4J_URI: uri },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop() as string))
        : reject(new Error(`child exited ${code}`)),
    );
  });
}

/**
 * The floor: the same nodes and as many edges (STIX relationships plus the derived edges the import
 * adds), with the same property values (`created` and `modified` as datetimes, as the import
 * writes them), written with bare CREATE statements in one transaction, same batch size, rows
 * prepared.
 */
async function floor(
  graph: Graph,
  batch: number,
): Promise<{ ms: number; nodes: number; edges: number }> {
  const parsed = parseBundle(readFileSync(E181));
  const sdos = parsed.objects.filter((o) => o.type !== 'relationship');
  const nodes = sdos.map((o) => {
    const { props, created, modified } = nodeRow(o, canonical(o));
    return { props, created, modified };
  });
  // Derived edges have no dates of their own.
  const edges: Array<Pick<EdgeRow, 'source' | 'target' | 'props'> & Partial<EdgeRow>> =
    parsed.objects
      .filter((o) => o.type === 'relationship')
      .map((o) => {
        const { source, target, props, created, modified } = edgeRow(o, canonical(o));
        return { source, target, props, created, modified };
      });
  const ids = new Set(sdos.map((o) => o.id));
  for (const d of sdos.map(derivedEdges)) {
    for (const e of d.edges)
      if (ids.has(e.to)) edges.push({ source: e.from, target: e.to, props: e.props });
    for (const t of d.tactics)
      edges.push({ source: t.from, target: t.from, props: { domain: t.domain } });
  }
  const t0 = process.hrtime.bigint();
  await graph.writeTransaction(async (tx) => {
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < nodes.length; i += batch) {
      pending.push(
        tx.run(
          `UNWIND $rows AS row CREATE (n:AttackObject)
           SET n = row.props, n.created = datetime(row.created), n.modified = datetime(row.modified)`,
          { rows: nodes.slice(i, i + batch) },
        ),
      );
    }
    for (let i = 0; i < edges.length; i += batch) {
      pending.push(
        tx.run(
          `UNWIND $rows AS row
           MATCH (a:AttackObject {stix_id: row.source}) MATCH (b:AttackObject {stix_id: row.target})
           CREATE (a)-[r:REL]->(b)
           SET r = row.props, r.created = datetime(row.created), r.modified = datetime(row.modified)`,
          { rows: edges.slice(i, i + batch) },
        ),
      );
    }
    await Promise.all(pending);
  });
  return {
    ms: Number(process.hrtime.bigint() - t0) / 1e6,
    nodes: nodes.length,
    edges: edges.length,
  };
}

async function main(): Promise<void> {
  const cfg = loadConfig();
  const neo = await benchNeo4j();
  const uri = neo.uri;
  const graph = await openGraph({ ...cfg.neo4j, uri });
  try {
    await applySchema(graph);
    const imports: ChildResult[] = [];
    const floors: number[] = [];
    let counts = { nodes: 0, edges: 0 };
    // A fresh JVM compiles as it goes: one unmeasured round of each first.
    say('warm-up: one import and one floor, not measured');
    await runChild(E181, uri);
    await emptyDatabase(graph);
    await floor(graph, cfg.importBatchSize);
    for (let i = 1; i <= RUNS; i++) {
      await emptyDatabase(graph);
      say(`run ${i}/${RUNS}: full import of Enterprise 18.1`);
      imports.push(await runChild(E181, uri));
      await emptyDatabase(graph);
      say(`run ${i}/${RUNS}: floor (bare UNWIND … CREATE)`);
      const f = await floor(graph, cfg.importBatchSize);
      floors.push(f.ms);
      counts = { nodes: f.nodes, edges: f.edges };
    }
    await emptyDatabase(graph);
    await runChild(E181, uri);
    const same: ChildResult[] = [];
    const reserialised: ChildResult[] = [];
    // Same content, other bytes: pretty-printed JSON defeats the sha256 shortcut, so the diff runs.
    const pretty = path.join(
      mkdtempSync(path.join(tmpdir(), 'ttpgraph-bench-')),
      'enterprise-18.1-pretty.json',
    );
    writeFileSync(
      pretty,
      JSON.stringify(JSON.parse(gunzipSync(readFileSync(E181)).toString('utf8')), null, 2),
    );
    for (let i = 1; i <= RUNS; i++) {
      say(`run ${i}/${RUNS}: unchanged re-import (same bytes, then re-serialised)`);
      same.push(await runChild(E181, uri));
      reserialised.push(await runChild(pretty, uri));
    }
    rmSync(path.dirname(pretty), { recursive: true, force: true });
    const updates: ChildResult[] = [];
    for (let i = 1; i <= RUNS; i++) {
      await emptyDatabase(graph);
      await runChild(E180, uri);
      say(`run ${i}/${RUNS}: update 18.0 → 18.1`);
      updates.push(await runChild(E181, uri));
    }

    const importMs = median(imports.map((r) => r.ms));
    const floorMs = median(floors);
    const rows: Array<[string, string]> = [
      [
        'machine',
        `${execFileSync('nproc').toString().trim()} cores, node ${process.version}, Neo4j at ${uri}`,
      ],
      ['objects', `${counts.nodes} nodes, ${counts.edges} edges (STIX relationships and derived)`],
      [
        'full import, median',
        `${(importMs / 1000).toFixed(2)} s  (runs: ${imports.map((r) => (r.ms / 1000).toFixed(2)).join(', ')})`,
      ],
      ['  nodes/s', `${Math.round(counts.nodes / (importMs / 1000))}`],
      ['  edges/s', `${Math.round(counts.edges / (importMs / 1000))}`],
      ['  importer peak RSS', `${Math.max(...imports.map((r) => r.maxRssMb)).toFixed(0)} MB`],
      [
        'floor, median',
        `${(floorMs / 1000).toFixed(2)} s  (runs: ${floors.map((m) => (m / 1000).toFixed(2)).join(', ')})`,
      ],
      ['ratio import / floor', `${(importMs / floorMs).toFixed(2)}  (target ≤ 1.5; import < 15 s)`],
      [
        'unchanged re-import, same bytes',
        `${(median(same.map((r) => r.ms)) / 1000).toFixed(2)} s  (target < 3 s; wrote: ${same.some((r) => r.changed)})`,
      ],
      [
        'unchanged re-import, re-serialised',
        `${(median(reserialised.map((r) => r.ms)) / 1000).toFixed(2)} s  (full diff; wrote: ${reserialised.some((r) => r.changed)})`,
      ],
      [
        'update 18.0 → 18.1, median',
        `${(median(updates.map((r) => r.ms)) / 1000).toFixed(2)} s  (ratio to full import ${(median(updates.map((r) => r.ms)) / importMs).toFixed(2)})`,
      ],
      [
        'importer peak RSS, all runs',
        `${Math.max(...[...imports, ...same, ...reserialised, ...updates].map((r) => r.maxRssMb)).toFixed(0)} MB  (target < 600 MB)`,
      ],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n'));
  } finally {
    await graph.close();
    await neo.stop();
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as string).catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
