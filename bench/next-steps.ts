/**
 * npm run bench:next-steps — how well the next-step model predicts the rest of an intrusion from
 * half of it, next to two baselines computed in the same run.
 *
 * ATT&CK's groups and campaigns (with at least 6 techniques) are split into BENCH_FOLDS folds; for
 * each fold the model learns from every other actor (software included) and never from the fold.
 * Each held-out actor reveals half of its techniques (a fixed pseudo-random half) and the rest are
 * to be found: recall@10, recall@20, NDCG@20 and MRR, observed techniques excluded from the
 * ranking. Twice: on the actors' whole sets, and cut to 8 techniques (4 seen, 4 to find) — the size
 * of a typical intrusion report, where less is known. Baselines: popularity (how many actors use
 * a technique) and plain item–item co-occurrence over the `uses` relationships.
 */
import { fraction } from '../src/enrichment/engine';
import { loadQueries } from '../src/shared/cypher';
import {
  fitSuggestions,
  rankSuggestions,
  type ActorRow,
  type SuggestionModel,
} from '../src/reporting/suggestions';
import { enterpriseGraph, say } from './support';

const FOLDS = Number(process.env.BENCH_FOLDS ?? 5);
const MIN_TECHNIQUES = 6;
const REPORT_SIZE = 8;

type Scorer = (observed: string[]) => string[];

interface Case {
  observed: string[];
  hidden: Set<string>;
}

function cases(actor: ActorRow, cap: number): Case {
  const ordered = [...actor.techniques]
    .sort((a, b) => fraction(`${actor.id}|${a}`) - fraction(`${actor.id}|${b}`))
    .slice(0, cap);
  const half = Math.floor(ordered.length / 2);
  return { observed: ordered.slice(0, half), hidden: new Set(ordered.slice(half)) };
}

function modelScorer(model: SuggestionModel): Scorer {
  const out = new Map<string, Array<{ to: string; weight: number }>>();
  for (const e of model.edges) {
    const list = out.get(e.from) ?? [];
    list.push(e);
    out.set(e.from, list);
  }
  return (observed) => {
    const sums = new Map<string, number>();
    for (const o of observed)
      for (const e of out.get(o) ?? []) sums.set(e.to, (sums.get(e.to) ?? 0) + e.weight);
    return rankSuggestions({
      sums,
      prior: model.prior,
      observed: new Set(observed),
      limit: 20,
    }).map((r) => r.technique);
  };
}

function popularityScorer(rows: ActorRow[]): Scorer {
  const count = new Map<string, number>();
  for (const r of rows) for (const t of r.techniques) count.set(t, (count.get(t) ?? 0) + 1);
  const ranked = [...count].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return (observed) => {
    const seen = new Set(observed);
    return ranked
      .filter(([t]) => !seen.has(t))
      .slice(0, 20)
      .map(([t]) => t);
  };
}

/** Σ over observed techniques of how many actors use both; popularity breaks ties. */
function cooccurrenceScorer(rows: ActorRow[]): Scorer {
  const pairs = new Map<string, Map<string, number>>();
  const count = new Map<string, number>();
  for (const r of rows)
    for (const a of r.techniques) {
      count.set(a, (count.get(a) ?? 0) + 1);
      const m = pairs.get(a) ?? new Map<string, number>();
      for (const b of r.techniques) if (b !== a) m.set(b, (m.get(b) ?? 0) + 1);
      pairs.set(a, m);
    }
  return (observed) => {
    const seen = new Set(observed);
    const score = new Map<string, number>();
    for (const o of observed)
      for (const [b, n] of pairs.get(o) ?? []) score.set(b, (score.get(b) ?? 0) + n);
    return [...count.keys()]
      .filter((t) => !seen.has(t))
      .map((t) => [t, (score.get(t) ?? 0) + 1e-6 * (count.get(t) ?? 0)] as const)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 20)
      .map(([t]) => t);
  };
}

interface Totals {
  r10: number;
  r20: number;
  ndcg: number;
  mrr: number;
  n: number;
}

function score(ranked: string[], hidden: Set<string>, t: Totals): void {
  const hits = (k: number) => ranked.slice(0, k).filter((x) => hidden.has(x)).length / hidden.size;
  let dcg = 0;
  let ideal = 0;
  ranked.slice(0, 20).forEach((x, i) => {
    if (hidden.has(x)) dcg += 1 / Math.log2(i + 2);
  });
  for (let i = 0; i < Math.min(20, hidden.size); i++) ideal += 1 / Math.log2(i + 2);
  const first = ranked.findIndex((x) => hidden.has(x));
  t.r10 += hits(10);
  t.r20 += hits(20);
  t.ndcg += dcg / ideal;
  t.mrr += first < 0 ? 0 : 1 / (first + 1);
  t.n += 1;
}

async function main(): Promise<void> {
  const { graph, stop } = await enterpriseGraph();
  const q = loadQueries(['reporting/suggestion-corpus']);
  const rows = await graph.read<ActorRow>(q['reporting/suggestion-corpus']);
  await stop();
  const evaluated = rows.filter(
    (r) => r.kind !== 'software' && r.techniques.length >= MIN_TECHNIQUES,
  );
  say(
    `${rows.length} actors, ${evaluated.length} groups and campaigns evaluated in ${FOLDS} folds`,
  );
  const methods = ['model (EASE + popularity)', 'co-occurrence', 'popularity'] as const;
  const settings = [
    { label: 'whole sets', cap: Infinity },
    { label: `report-sized (${REPORT_SIZE})`, cap: REPORT_SIZE },
  ];
  const totals = new Map<string, Totals>();
  for (const s of settings)
    for (const m of methods)
      totals.set(`${s.label}|${m}`, { r10: 0, r20: 0, ndcg: 0, mrr: 0, n: 0 });
  const fitMs: number[] = [];
  for (let fold = 0; fold < FOLDS; fold++) {
    const held = new Set(
      evaluated
        .filter((r) => Math.floor(fraction(`fold:${r.id}`) * FOLDS) === fold)
        .map((r) => r.id),
    );
    const train = rows.filter((r) => !held.has(r.id));
    const t0 = Date.now();
    const scorers: Record<(typeof methods)[number], Scorer> = {
      'model (EASE + popularity)': modelScorer(fitSuggestions(train)),
      'co-occurrence': cooccurrenceScorer(train),
      popularity: popularityScorer(train),
    };
    fitMs.push(Date.now() - t0);
    say(`fold ${fold + 1}/${FOLDS}: ${held.size} held out, learnt from ${train.length}`);
    for (const actor of evaluated.filter((r) => held.has(r.id)))
      for (const s of settings) {
        const c = cases(actor, s.cap);
        for (const m of methods)
          score(scorers[m](c.observed), c.hidden, totals.get(`${s.label}|${m}`) as Totals);
      }
  }
  const f = (x: number, n: number) => (x / n).toFixed(3);
  console.log(
    'setting                 method                      recall@10  recall@20  NDCG@20  MRR    n',
  );
  for (const s of settings)
    for (const m of methods) {
      const t = totals.get(`${s.label}|${m}`) as Totals;
      console.log(
        `${s.label.padEnd(24)}${m.padEnd(28)}${f(t.r10, t.n).padEnd(11)}${f(t.r20, t.n).padEnd(11)}${f(t.ndcg, t.n).padEnd(9)}${f(t.mrr, t.n).padEnd(7)}${t.n}`,
      );
    }
  console.log(`fit per fold (model and baselines): ${fitMs.map((x) => `${x} ms`).join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
