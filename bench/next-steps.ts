/**
 * npm run bench:next-steps — how well the next-step model predicts the rest of an intrusion from
 * half of it, next to baselines computed in the same run.
 *
 * Two ways of holding out, each in BENCH_FOLDS folds, the model never learning from the fold:
 * - held-out actors: ATT&CK's groups and campaigns with at least 6 techniques; the model learns
 *   from every other actor (software included) and from the reports cited by none of the fold's
 *   relationships. Scored on the actors' whole sets, and cut to 8 techniques (4 seen, 4 to find) —
 *   the size of a typical intrusion report, where less is known.
 * - held-out cited reports: the technique sets of the sources ATT&CK cites (one vendor write-up,
 *   one advisory: the closest thing to an intrusion report the graph holds) with at least 6
 *   techniques; every relationship that cites a held-out report is left out of the learning.
 * - later: the model learns only from the relationships ATT&CK added before a cut two years before
 *   its latest one, and finds the cited reports and the groups and campaigns whose relationships
 *   all came after it (one split, no folds). The future is not the past shuffled: plain
 *   co-occurrence falls to about what it reaches on real intrusion reports (≈ 0.32).
 * The first two again with every sub-technique written as its parent ("techniques only"): how a
 * caller who names techniques alone (many reports, flows and rule tags do) is answered; with half
 * of the sub-techniques (a fixed pseudo-random half per set) written as their parents ("mixed
 * levels"): a writer, or an extractor, who names the sub-technique where it knows it; and with
 * every sub-technique named beside its parent ("both levels"), as extractors that report both do.
 * Each held-out set reveals half of its techniques (BENCH_DRAWS fixed pseudo-random halves, each
 * scored) and the rest are to be found: recall@10, recall@20, NDCG@20 and MRR, observed techniques
 * excluded from the ranking.
 * Baselines: popularity (how many actors use a technique), plain item–item co-occurrence over the
 * actors' `uses` relationships (both at the held-out sets' granularity), the model learnt from the
 * actors' sets alone, and the model that knows ATT&CK's granularity alone (this service before it
 * answered techniques with techniques).
 */
import { fraction } from '../src/shared/fraction';
import { loadQueries } from '../src/shared/cypher';
import { Snapshot, type SnapshotActor, type SnapshotTechnique } from '../src/reporting/next-steps';
import {
  corpusRows,
  fitSuggestions,
  rankSuggestions,
  toUses,
  GRANULARITIES,
  type ActorKind,
  type CorpusRow,
  type Granularity,
  type SuggestionModel,
  type UseRecord,
  type UseRow,
} from '../src/reporting/suggestions';
import { enterpriseGraph, say } from './support';

const FOLDS = Number(process.env.BENCH_FOLDS ?? 5);
// Several revealed halves per held-out set: one half alone moves recall@20 by ±0.01 on 190 actors.
const DRAWS = Number(process.env.BENCH_DRAWS ?? 5);
const MIN_TECHNIQUES = 6;
const REPORT_SIZE = 8;

type Scorer = (observed: string[]) => string[];

interface Case {
  observed: string[];
  hidden: Set<string>;
}

/** The revealed half and the rest; `draw` 0 is the half earlier runs of this bench used. */
function cases(actor: CorpusRow, cap: number, draw: number): Case {
  const key = (t: string) => fraction(draw === 0 ? `${actor.id}|${t}` : `${draw}|${actor.id}|${t}`);
  const ordered = [...actor.techniques].sort((a, b) => key(a) - key(b)).slice(0, cap);
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

/** The service's own ranking: a snapshot of both granularities' models, as the graph keeps them. */
function serviceScorer(train: UseRow[]): Scorer {
  const models = Object.fromEntries(
    GRANULARITIES.map((g) => [g, fitSuggestions(corpusRows(train, g))]),
  ) as Record<Granularity, SuggestionModel>;
  const parents = new Map(train.map((u) => [u.technique, u.parent]));
  for (const p of parents.values()) if (p && !parents.has(p)) parents.set(p, null);
  const techniques: SnapshotTechnique[] = [...parents].map(([id, parent]) => ({
    id,
    attackId: id,
    name: id,
    parent,
    tactics: [],
    prior: Object.fromEntries(
      GRANULARITIES.map((g) => [g, models[g].prior.get(id) ?? 0]),
    ) as Record<Granularity, number>,
    suggests: { 'sub-technique': [], technique: [], mixed: [] },
  }));
  const byId = new Map(techniques.map((t) => [t.id, t]));
  for (const g of GRANULARITIES)
    for (const e of models[g].edges) byId.get(e.from)?.suggests[g].push(e);
  // The actors' sets give the snapshot its rate of naming a family by its parent.
  const actors: SnapshotActor[] = corpusRows(train)
    .filter((r) => r.kind !== 'report')
    .map((r) => ({
      id: r.id,
      attackId: r.id,
      name: r.id,
      kind: r.kind as ActorKind,
      firstSeen: null,
      lastSeen: null,
      techniques: r.techniques,
    }));
  const snapshot = new Snapshot('bench', techniques, actors);
  return (observed) => snapshot.rank(observed, 20).ranked.map((r) => r.technique);
}

function popularityScorer(rows: CorpusRow[]): Scorer {
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
function cooccurrenceScorer(rows: CorpusRow[]): Scorer {
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

const METHODS = [
  'model (EASE + popularity)',
  'model, actors only',
  "model, ATT&CK's granularity",
  'co-occurrence',
  'popularity',
] as const;
type Method = (typeof METHODS)[number];

/** A set with every sub-technique named beside its parent. */
function bothLevels(row: CorpusRow, parentOf: Map<string, string | null>): CorpusRow {
  const techniques = row.techniques.flatMap((t) => {
    const parent = parentOf.get(t);
    return parent ? [t, parent] : [t];
  });
  return { ...row, techniques: [...new Set(techniques)].sort() };
}

/** Every method learnt from `train`; the baselines at the level of the sets to find. */
function scorers(train: UseRow[], level: Granularity): Record<Method, Scorer> {
  const rows = corpusRows(train, level);
  const actors = rows.filter((r) => r.kind !== 'report');
  return {
    'model (EASE + popularity)': serviceScorer(train),
    'model, actors only': modelScorer(fitSuggestions(actors)),
    "model, ATT&CK's granularity": modelScorer(fitSuggestions(corpusRows(train))),
    'co-occurrence': cooccurrenceScorer(actors),
    popularity: popularityScorer(actors),
  };
}

interface Protocol {
  label: string;
  /** The level the sets to find are written at. */
  granularity: Granularity;
  /** The sets to hold out and score. */
  evaluated: CorpusRow[];
  /** What the model may learn from while `held` is held out. */
  train: (held: Set<string>) => UseRow[];
  caps: number[];
  /** One split: everything evaluated is held out at once. */
  single?: boolean;
}

const TWO_YEARS_MS = 2 * 365.25 * 86_400_000;

/**
 * The later sets: cited reports and groups or campaigns whose every relationship ATT&CK added at
 * or after the cut, and what came before it to learn from.
 */
function laterSplit(uses: UseRow[]): { cut: string; before: UseRow[]; later: CorpusRow[] } {
  const dated = uses.filter((u) => u.created);
  const latest = Math.max(...dated.map((u) => Date.parse(u.created as string)));
  const cut = new Date(latest - TWO_YEARS_MS).toISOString();
  const early = (u: UseRow) => (u.created ?? '') < cut;
  const before = uses.filter(early);
  const old = new Set([...before.flatMap((u) => u.reports.map((r) => `report:${r}`))]);
  for (const u of before) old.add(u.actor);
  const later = corpusRows(uses.filter((u) => !early(u))).filter(
    (r) => r.kind !== 'software' && !old.has(r.id) && r.techniques.length >= MIN_TECHNIQUES,
  );
  return { cut, before, later };
}

async function main(): Promise<void> {
  const { graph, stop } = await enterpriseGraph();
  const q = loadQueries(['reporting/suggestion-corpus']);
  const uses = toUses(await graph.read<UseRecord>(q['reporting/suggestion-corpus']));
  await stop();
  const rows = corpusRows(uses);
  const coarse = corpusRows(uses, 'technique');
  const mixed = corpusRows(uses, 'mixed');
  const parentOf = new Map(uses.map((u) => [u.technique, u.parent]));
  const both = rows.map((r) => bothLevels(r, parentOf));
  const byActor = (held: Set<string>): UseRow[] => {
    // The reports behind a held-out actor's relationships are held out with it.
    const banned = new Set(uses.filter((u) => held.has(u.actor)).flatMap((u) => u.reports));
    return uses
      .filter((u) => !held.has(u.actor))
      .map((u) => ({ ...u, reports: u.reports.filter((r) => !banned.has(r)) }));
  };
  const byReport = (held: Set<string>): UseRow[] =>
    uses.filter((u) => !u.reports.some((r) => held.has(`report:${r}`)));
  const later = laterSplit(uses);
  const actorSets = (from: CorpusRow[]) =>
    from.filter(
      (r) => (r.kind === 'group' || r.kind === 'campaign') && r.techniques.length >= MIN_TECHNIQUES,
    );
  const reportSets = (from: CorpusRow[]) =>
    from.filter((r) => r.kind === 'report' && r.techniques.length >= MIN_TECHNIQUES);
  const protocols: Protocol[] = [
    {
      label: 'held-out actors',
      granularity: 'sub-technique',
      evaluated: actorSets(rows),
      train: byActor,
      caps: [Infinity, REPORT_SIZE],
    },
    {
      label: 'held-out cited reports',
      granularity: 'sub-technique',
      evaluated: reportSets(rows),
      train: byReport,
      caps: [Infinity],
    },
    {
      label: `later (added since ${later.cut.slice(0, 10)})`,
      granularity: 'sub-technique',
      evaluated: later.later,
      train: () => later.before,
      caps: [Infinity, REPORT_SIZE],
      single: true,
    },
    {
      label: 'held-out actors, techniques only',
      granularity: 'technique',
      evaluated: actorSets(coarse),
      train: byActor,
      caps: [Infinity, REPORT_SIZE],
    },
    {
      label: 'held-out reports, techniques only',
      granularity: 'technique',
      evaluated: reportSets(coarse),
      train: byReport,
      caps: [Infinity],
    },
    {
      label: 'held-out actors, mixed levels',
      granularity: 'mixed',
      evaluated: actorSets(mixed),
      train: byActor,
      caps: [Infinity, REPORT_SIZE],
    },
    {
      label: 'held-out reports, mixed levels',
      granularity: 'mixed',
      evaluated: reportSets(mixed),
      train: byReport,
      caps: [Infinity],
    },
    // Baselines learn at the mixed level here too: the nearest the corpus has to these sets.
    {
      label: 'held-out actors, both levels',
      granularity: 'mixed',
      evaluated: actorSets(both),
      train: byActor,
      caps: [Infinity, REPORT_SIZE],
    },
    {
      label: 'held-out reports, both levels',
      granularity: 'mixed',
      evaluated: reportSets(both),
      train: byReport,
      caps: [Infinity],
    },
  ];
  const reports = rows.filter((r) => r.kind === 'report').length;
  say(
    `${uses.length} uses relationships: ${rows.length - reports} actors, ` +
      `${reports} cited reports with 2 or more techniques`,
  );
  const totals = new Map<string, Totals>();
  const total = (key: string) => {
    const t = totals.get(key) ?? { r10: 0, r20: 0, ndcg: 0, mrr: 0, n: 0 };
    totals.set(key, t);
    return t;
  };
  const settings: string[] = [];
  const fitMs: number[] = [];
  const settingOf = (p: Protocol, cap: number) =>
    `${p.label}|${cap === Infinity ? 'whole sets' : `report-sized (${cap})`}`;
  for (const p of protocols) {
    for (const cap of p.caps) settings.push(settingOf(p, cap));
    const folds = p.single ? 1 : FOLDS;
    for (let fold = 0; fold < folds; fold++) {
      const held = new Set(
        p.evaluated
          .filter((r) => p.single || Math.floor(fraction(`fold:${r.id}`) * FOLDS) === fold)
          .map((r) => r.id),
      );
      const t0 = Date.now();
      const s = scorers(p.train(held), p.granularity);
      fitMs.push(Date.now() - t0);
      say(`${p.label}, fold ${fold + 1}/${folds}: ${held.size} held out`);
      for (const row of p.evaluated.filter((r) => held.has(r.id)))
        for (const cap of p.caps)
          for (let draw = 0; draw < DRAWS; draw++) {
            const c = cases(row, cap, draw);
            for (const m of METHODS)
              score(s[m](c.observed), c.hidden, total(`${settingOf(p, cap)}|${m}`));
          }
    }
  }
  const f = (x: number, n: number) => (x / n).toFixed(3);
  console.log(
    `${'held out'.padEnd(36)}${'setting'.padEnd(18)}${'method'.padEnd(30)}recall@10  recall@20  NDCG@20  MRR    n (sets × draws)`,
  );
  for (const setting of settings)
    for (const m of METHODS) {
      const t = total(`${setting}|${m}`);
      const [held, size] = setting.split('|') as [string, string];
      console.log(
        `${held.padEnd(36)}${size.padEnd(18)}${m.padEnd(30)}${f(t.r10, t.n).padEnd(11)}${f(t.r20, t.n).padEnd(11)}${f(t.ndcg, t.n).padEnd(9)}${f(t.mrr, t.n).padEnd(7)}${t.n}`,
      );
    }
  console.log(`fit per fold (models and baselines): ${fitMs.map((x) => `${x} ms`).join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
