/**
 * npm run bench:enrich — how well the enrichment engine names the technique of text it has not
 * seen, next to a BM25 baseline over the same ATT&CK text, in one run.
 *
 * ATT&CK's procedure examples are split by actor (group, software or campaign): a held-out
 * share of the actors (BENCH_HOLDOUT, 0.3) is never learnt from, by the engine or the baseline.
 * Each held-out procedure (its actor's link removed) is an item; its technique is the answer.
 * Prints P@1, hit@3, coverage (items with any suggestion at the default threshold) and the
 * expected calibration error of the top suggestion, overall and per tactic, and throughput; then
 * the analytics of held-out detection strategies (rule-like text) and the commands quoted in
 * held-out procedures (command-line-like), scored the same way.
 */
import { loadCorpus, type Corpus } from '../src/enrichment/corpus';
import { detectionSource, EnrichmentEngine } from '../src/enrichment/engine';
import { fraction } from '../src/shared/fraction';
import { loadPatterns } from '../src/enrichment/patterns';
import { Bm25 } from './bm25';
import { stripMarkup } from '../src/enrichment/text';
import { enterpriseGraph, median, say } from './support';

const HOLDOUT = Number(process.env.BENCH_HOLDOUT ?? 0.3);
const MAX_ITEMS = Number(process.env.BENCH_ITEMS ?? 3_000);

interface Item {
  text: string;
  label: string;
  tactics: string[];
}

function split(corpus: Corpus): {
  heldOut: Set<string>;
  items: Item[];
  rules: Item[];
  commands: Item[];
} {
  const heldOut = new Set<string>();
  const items: Item[] = [];
  // The commands, paths and API names quoted in held-out procedures (`<code>` spans): the nearest
  // thing in ATT&CK's own content to bare command lines.
  const commands: Item[] = [];
  // Detection strategies held out the same way: their analytics read like detection-rule text.
  const rules: Item[] = [];
  for (const t of corpus.techniques) {
    for (const d of t.detections) {
      const source = detectionSource(d);
      if (fraction(`holdout:${source}`) >= HOLDOUT) continue;
      heldOut.add(source);
      rules.push({ text: d, label: t.attackId, tactics: t.tactics });
    }
  }
  for (const t of corpus.techniques) {
    for (const p of t.procedures) {
      if (fraction(`holdout:${p.source}`) >= HOLDOUT) continue;
      heldOut.add(p.source);
      const text = stripMarkup(
        p.text.replace(/\[[^\]]{1,200}\]\(https:\/\/attack\.mitre\.org\/[^)]*\)/g, ''),
      ).trim();
      if (text.length > 20) items.push({ text, label: t.attackId, tactics: t.tactics });
      for (const m of p.text.matchAll(/<code>([^<]{4,})<\/code>/g)) {
        commands.push({ text: (m[1] as string).trim(), label: t.attackId, tactics: t.tactics });
      }
    }
  }
  // A fixed pseudo-random sample of each slice.
  const sample = (list: Item[]) =>
    list.sort((a, b) => fraction(a.text) - fraction(b.text)).slice(0, MAX_ITEMS);
  return { heldOut, items: sample(items), rules: sample(rules), commands: sample(commands) };
}

/** Expected calibration error of (confidence, correct) pairs over ten equal-width bins. */
function ece(pairs: Array<[number, boolean]>): number {
  const bins = Array.from({ length: 10 }, () => ({ n: 0, conf: 0, right: 0 }));
  for (const [c, ok] of pairs) {
    const b = bins[Math.min(9, Math.floor(c * 10))] as { n: number; conf: number; right: number };
    b.n++;
    b.conf += c;
    b.right += ok ? 1 : 0;
  }
  const n = pairs.length || 1;
  return bins.reduce(
    (s, b) => s + (b.n ? (b.n / n) * Math.abs(b.conf / b.n - b.right / b.n) : 0),
    0,
  );
}

const pct = (x: number) => x.toFixed(3);

/** The heap in use after a full collection (`--expose-gc`), in MB; NaN without it. */
function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return Number.NaN;
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function main(): Promise<void> {
  const { graph, stop } = await enterpriseGraph();
  let t0 = Date.now();
  const corpus = await loadCorpus(graph);
  say(`corpus read in ${Date.now() - t0} ms: ${corpus.techniques.length} techniques`);
  const { heldOut, items, rules, commands } = split(corpus);
  say(
    `${heldOut.size} actors and detection strategies held out: ${items.length} procedures, ${rules.length} analytics, ${commands.length} quoted commands`,
  );

  const heapBefore = settledHeap();
  t0 = Date.now();
  const engine = EnrichmentEngine.build(corpus, loadPatterns(), { exclude: heldOut });
  // What the built engine keeps (its build's garbage collected); the corpus is the caller's.
  const engineHeap = settledHeap() - heapBefore;
  const buildMs = Date.now() - t0;
  say(`engine built in ${buildMs} ms (held-out actors excluded)`);
  // The baseline: BM25 alone over the same text the engine learns from.
  const bm25 = new Bm25(
    corpus.techniques.map((t) => t.attackId),
    corpus.techniques.map((t) =>
      [
        t.name,
        stripMarkup(t.description),
        stripMarkup(t.detection),
        ...t.detections.filter((d) => !heldOut.has(detectionSource(d))),
        ...t.procedures.filter((p) => !heldOut.has(p.source)).map((p) => stripMarkup(p.text)),
      ].join(' '),
    ),
  );

  const rows: Array<{ item: Item; engine: string[]; conf: number; bm25: string[] }> = [];
  const times: number[] = [];
  t0 = Date.now();
  for (const item of items) {
    const s = process.hrtime.bigint();
    const out = engine.enrich({ text: item.text }, { topK: 3, minConfidence: 0 });
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
    rows.push({
      item,
      engine: out.map((o) => o.technique),
      conf: out[0]?.confidence ?? 0,
      bm25: bm25.rank(item.text).slice(0, 3),
    });
  }
  const threshold = 0.2;
  const report = (name: string, rs: typeof rows) => {
    const n = rs.length || 1;
    const p1 = rs.filter((r) => r.engine[0] === r.item.label).length / n;
    const h3 = rs.filter((r) => r.engine.includes(r.item.label)).length / n;
    const fam = (id: string | undefined) => id?.split('.')[0];
    const p1f = rs.filter((r) => fam(r.engine[0]) === fam(r.item.label)).length / n;
    const cov = rs.filter((r) => r.conf >= threshold).length / n;
    const e = ece(rs.map((r) => [r.conf, r.engine[0] === r.item.label]));
    const b1 = rs.filter((r) => r.bm25[0] === r.item.label).length / n;
    const b3 = rs.filter((r) => r.bm25.includes(r.item.label)).length / n;
    console.log(
      `| ${name} | ${rs.length} | ${pct(p1)} | ${pct(p1f)} | ${pct(h3)} | ${pct(cov)} | ${pct(e)} | ${pct(b1)} | ${pct(b3)} | ${pct(p1 / (b1 || 1e-9))} |`,
    );
  };
  console.log(
    '| slice | items | engine P@1 | P@1 (family) | hit@3 | coverage | ECE | BM25 P@1 | BM25 hit@3 | P@1 ratio |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  report('all held-out procedures', rows);
  const tactics = [...new Set(rows.flatMap((r) => r.item.tactics))].sort();
  for (const t of tactics)
    report(
      t,
      rows.filter((r) => r.item.tactics.includes(t)),
    );
  // Detection-rule-like text: analytics of detection strategies nothing learnt from, whole and
  // without the strategy's name (which often repeats the technique's).
  const scored = (list: Item[], text: (i: Item) => string, field = 'text') =>
    list.map((item) => {
      const out = engine.enrich({ [field]: text(item) }, { topK: 3, minConfidence: 0 });
      return {
        item,
        engine: out.map((o) => o.technique),
        conf: out[0]?.confidence ?? 0,
        bm25: bm25.rank(text(item)).slice(0, 3),
      };
    });
  report(
    'held-out analytics (strategy name + analytic)',
    scored(rules, (i) => i.text),
  );
  report(
    'held-out analytics, no strategy name',
    scored(rules, (i) => i.text.slice(i.text.indexOf('. ') + 2)),
  );
  report(
    'held-out quoted commands, as command_line',
    scored(commands, (i) => i.text, 'command_line'),
  );
  const total = (Date.now() - t0) / 1000;
  // Throughput on texts of about 400 characters (held-out procedures joined), one core.
  const long: string[] = [];
  for (let i = 0; i + 5 < items.length && long.length < 2_000; i += 5) {
    long.push(
      items
        .slice(i, i + 5)
        .map((x) => x.text)
        .join(' ')
        .slice(0, 400),
    );
  }
  // One round to warm the JIT, then the median of three.
  const rates: number[] = [];
  for (let round = 0; round < 4; round++) {
    const ls = process.hrtime.bigint();
    for (const text of long) engine.enrich({ text }, { topK: 5 });
    if (round > 0) rates.push(long.length / (Number(process.hrtime.bigint() - ls) / 1e9));
  }
  const longRate = median(rates);
  console.log(
    `\nengine: ${(items.length / (times.reduce((a, b) => a + b, 0) / 1000)).toFixed(0)} items/s on one core (median ${median(times).toFixed(2)} ms per item, mean length ${Math.round(items.reduce((s, i) => s + i.text.length, 0) / (items.length || 1))} chars); build ${buildMs} ms; whole evaluation ${total.toFixed(1)} s; RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`,
  );
  console.log(
    `engine on ~400-character texts: ${longRate.toFixed(0)} items/s (median of 3 rounds of ${long.length} items after one to warm up; target 2000); the engine's heap ${Math.round(engineHeap)} MB (target: the process under 500 MB), heap after the run ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB`,
  );
  console.log(
    `combiner weights: ${JSON.stringify(engine.weights(), (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v))}`,
  );
  await stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
