import { fraction } from '../shared/fraction';

/**
 * What comes next, learnt from ATT&CK's `uses` relationships: an item–item linear model (EASE,
 * Steck 2019, with EDLAE's emphasis on the diagonal) over technique sets — each actor's, and each
 * report's that ATT&CK cites for them — kept as the strongest positive weights per technique (the
 * graph's SUGGESTS edges), blended with each technique's popularity. Chosen on
 * `npm run bench:next-steps` (held-out groups and campaigns, held-out cited reports) against plain
 * co-occurrence and popularity; the parameters below are that harness's.
 */

export type ActorKind = 'group' | 'software' | 'campaign';
/** A row is an actor's set or a cited report's set. */
export type RowKind = ActorKind | 'report';

export interface CorpusRow {
  /** Any stable key (an actor's STIX id in the graph; `report:` and the source name). */
  id: string;
  kind: RowKind;
  /** The keys of the techniques it uses (STIX ids in the graph). */
  techniques: string[];
}

/** One active `uses` relationship from an actor to a technique, with the sources it cites. */
export interface UseRow {
  actor: string;
  kind: ActorKind;
  technique: string;
  /** The technique's parent when it is a sub-technique. */
  parent: string | null;
  /** When ATT&CK added the relationship (ISO 8601): the benchmark's split in time. */
  created?: string | null;
  reports: string[];
}

/**
 * The model is learnt three times: as ATT&CK maps (sub-techniques where it names them); with every
 * sub-technique counted as its parent technique; and with a fixed pseudo-random half of each set's
 * sub-techniques so counted (`mixed`). Callers that speak in techniques alone (many reports, flows
 * and rule tags do) are answered at their level: the first model, asked about parents that
 * ATT&CK's actors mostly use through a sub-technique, knows little of them and answers with
 * sub-techniques they never name. Callers that name the sub-technique where they know it and the
 * parent elsewhere (an extractor, a set of rule tags) write at both levels, which the third model
 * has seen side by side.
 */
export type Granularity = 'sub-technique' | 'technique' | 'mixed';
export const GRANULARITIES: readonly Granularity[] = ['sub-technique', 'technique', 'mixed'];
/** The levels a technique itself is at (whom it is used by, counted). */
export type Level = Exclude<Granularity, 'mixed'>;

/** A record of the corpus query: a use with the description its citations are read from. */
export type UseRecord = Omit<UseRow, 'reports'> & { description: string | null };

const CITATION = /\(Citation: ([^)]+)\)/g;
/**
 * A source naming more techniques than this is a catalogue, not one intrusion (ATT&CK's largest
 * cited report names 70); it also bounds the fit's cost on a bundle that cites one name everywhere.
 */
const MAX_REPORT_TECHNIQUES = 200;

/** The sources a relationship's description cites: ATT&CK writes each as `(Citation: name)`. */
function citations(description: string | null | undefined): string[] {
  return [
    ...new Set([...(description ?? '').matchAll(CITATION)].map((m) => (m[1] as string).trim())),
  ];
}

/** The corpus query's records as uses, each with the sources its description cites. */
export function toUses(records: UseRecord[]): UseRow[] {
  return records.map(({ description, ...u }) => ({ ...u, reports: citations(description) }));
}

/**
 * The model's rows: each actor's set of techniques, and each cited report's — the techniques that
 * the relationships citing one source (a vendor's write-up, an advisory) name, whichever actors
 * they belong to. A report is one intrusion or one malware as written up once, closer to what an
 * analyst holds than an actor's profile gathered over years. A report naming a single technique
 * says nothing about co-occurrence and is left out, as is one naming more than
 * MAX_REPORT_TECHNIQUES. At the `technique` granularity each sub-technique counts as its parent;
 * at `mixed`, in a fixed pseudo-random half of the sets that name it.
 */
export function corpusRows(
  uses: UseRow[],
  granularity: Granularity = 'sub-technique',
): CorpusRow[] {
  const actors = new Map<string, { kind: ActorKind; techniques: Set<string> }>();
  const reports = new Map<string, Set<string>>();
  const at = (u: UseRow, row: string): string =>
    !u.parent || granularity === 'sub-technique'
      ? u.technique
      : granularity === 'technique' || fraction(`mixed|${row}|${u.technique}`) < 0.5
        ? u.parent
        : u.technique;
  for (const u of uses) {
    const a = actors.get(u.actor) ?? { kind: u.kind, techniques: new Set<string>() };
    a.techniques.add(at(u, u.actor));
    actors.set(u.actor, a);
    for (const r of u.reports) {
      const set = reports.get(r) ?? new Set<string>();
      set.add(at(u, `report:${r}`));
      reports.set(r, set);
    }
  }
  const rows: CorpusRow[] = [...actors].map(([id, a]) => ({
    id,
    kind: a.kind,
    techniques: [...a.techniques].sort(),
  }));
  for (const [name, set] of reports)
    if (set.size > 1 && set.size <= MAX_REPORT_TECHNIQUES)
      rows.push({ id: `report:${name}`, kind: 'report', techniques: [...set].sort() });
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface AnswerLevel {
  granularity: Granularity;
  /** At `mixed`, the share of the mixed model in each score (ATT&CK's granularity has the rest). */
  blend: number;
}

/** How strongly the mixed model takes over as a set names parents beyond the base rate. */
const MIXED_EMPHASIS = 2;

/** A technique's family: itself when it has sub-techniques, its parent when it is one, else none. */
export type FamilyOf = (technique: string) => string | null;

/** Observations at the overall rate that a family's own rate is shrunk with. */
const PSEUDO_SETS = 2;

/**
 * Per family, how often a corpus of sets names it by the parent rather than a sub-technique: the
 * rate a set written as ATT&CK's own actors write is expected to show (≈ 0.14 over all families;
 * T1059 alone is named far more often than T1566). A family's rate is shrunk towards the overall
 * one by two pseudo-observations.
 */
export function parentNamingRates(
  sets: Iterable<Iterable<string>>,
  familyOf: FamilyOf,
): (family: string) => number {
  const named = new Map<string, number>();
  const total = new Map<string, number>();
  let allNamed = 0;
  let all = 0;
  for (const set of sets)
    for (const t of set) {
      const family = familyOf(t);
      if (!family) continue;
      all++;
      total.set(family, (total.get(family) ?? 0) + 1);
      if (family === t) {
        allNamed++;
        named.set(family, (named.get(family) ?? 0) + 1);
      }
    }
  const overall = all > 0 ? allNamed / all : 0;
  return (family) =>
    ((named.get(family) ?? 0) + PSEUDO_SETS * overall) / ((total.get(family) ?? 0) + PSEUDO_SETS);
}

/**
 * The level an observed set speaks at. None of it a sub-technique and some of it a technique that
 * has sub-techniques: `technique` (a caller who knew the sub-technique would have named it). Both
 * levels: `mixed` when the set names parents more often than ATT&CK's own actors would (`rateOf`,
 * summed over the set's families) — a writer who rolls some sub-techniques up is likely to have
 * rolled up some of the rest — and the mixed model's share grows with the excess, shrunk by one
 * pseudo-observation (one parent among a few sub-techniques is what ATT&CK itself writes). As
 * ATT&CK maps otherwise: techniques that have no sub-techniques say nothing either way.
 */
export function answerLevel(
  observed: Iterable<string>,
  familyOf: FamilyOf,
  rateOf: (family: string) => number,
): AnswerLevel {
  let named = 0;
  let subs = 0;
  let expected = 0;
  for (const t of observed) {
    const family = familyOf(t);
    if (!family) continue;
    expected += rateOf(family);
    if (family === t) named++;
    else subs++;
  }
  if (subs === 0)
    return named > 0
      ? { granularity: 'technique', blend: 1 }
      : { granularity: 'sub-technique', blend: 0 };
  const excess = Math.max(0, named - expected) / (named + subs + 1 - expected);
  const blend = Math.min(1, MIXED_EMPHASIS * excess);
  return blend > 0 ? { granularity: 'mixed', blend } : { granularity: 'sub-technique', blend: 0 };
}

/**
 * How often a set that names a sub-technique names its parent too, over sets written as ATT&CK's
 * actors write (≈ 0.06 in Enterprise 18.1): what the both-levels rule weighs a list's own pairs
 * against.
 */
export function pairRate(sets: Iterable<Iterable<string>>, familyOf: FamilyOf): number {
  let families = 0;
  let paired = 0;
  for (const set of sets) {
    const named = new Set(set);
    const withSub = new Set<string>();
    for (const t of named) {
      const family = familyOf(t);
      if (family && family !== t) withSub.add(family);
    }
    families += withSub.size;
    for (const f of withSub) if (named.has(f)) paired++;
  }
  return families > 0 ? paired / families : 0;
}

/**
 * Some writers list every sub-technique beside its parent (extractors, report datasets that count
 * both): prior share of such lists, and the share of a pair's parents seen beside their
 * sub-technique when about half such a list is known.
 */
const BOTH_LEVELS_PRIOR = 0.2;
const BOTH_LEVELS_PAIR_RATE = 0.5;

export interface BothLevels {
  /** How likely the list is written with every sub-technique beside its parent (0–1). */
  share: number;
  /** Parents it leaves out, each with the observed sub-techniques of its family. */
  parents: Map<string, string[]>;
}

/**
 * Whether an observed list names sub-techniques beside their parents, and the parents it leaves
 * out: among the families it names a sub-technique of, the number whose parent it names too, as
 * likely under that convention (half of each pair seen) as against ATT&CK's own rate (`rate`).
 */
export function bothLevels(
  observed: Iterable<string>,
  familyOf: FamilyOf,
  rate: number,
): BothLevels {
  const named = new Set(observed);
  const parents = new Map<string, string[]>();
  const paired = new Set<string>();
  for (const t of named) {
    const family = familyOf(t);
    if (!family || family === t) continue;
    if (named.has(family)) paired.add(family);
    else {
      const members = parents.get(family);
      if (members) members.push(t);
      else parents.set(family, [t]);
    }
  }
  if (parents.size === 0) return { share: 0, parents };
  const [k, n] = [paired.size, paired.size + parents.size];
  const p = BOTH_LEVELS_PAIR_RATE;
  const yes = BOTH_LEVELS_PRIOR * p ** k * (1 - p) ** (n - k);
  const no = (1 - BOTH_LEVELS_PRIOR) * rate ** k * (1 - rate) ** (n - k);
  return { share: yes / (yes + no), parents };
}

export interface SuggestionParams {
  /** Ridge of the item–item regression: larger spreads the weight over more techniques. */
  lambda: number;
  /** Extra ridge in proportion to a technique's own frequency (EDLAE's dropout emphasis). */
  emphasis: number;
  /** How much each kind of row counts: a malware's set says less about an intrusion. */
  weights: Record<RowKind, number>;
  /** Share of the popularity prior in a score (the co-occurrence part is scaled to at most 1). */
  prior: number;
  /** Positive weights kept per technique (its SUGGESTS edges). */
  keep: number;
}

export const SUGGESTION_PARAMS: SuggestionParams = {
  lambda: 100,
  emphasis: 0.5,
  weights: { group: 1, campaign: 1, software: 0.25, report: 0.5 },
  prior: 0.2,
  keep: 100,
};

export interface SuggestionEdge {
  from: string;
  to: string;
  weight: number;
}

export interface SuggestionModel {
  /** Popularity of each technique used at all, scaled so that the most used has 1. */
  prior: Map<string, number>;
  edges: SuggestionEdge[];
}

/**
 * Fits the model on the corpus' sets. The inverse is a dense n×n one (n = techniques used by
 * some actor, ~700 for Enterprise): a fraction of a second, once per release.
 */
export function fitSuggestions(
  rows: CorpusRow[],
  params: SuggestionParams = SUGGESTION_PARAMS,
): SuggestionModel {
  const items = [...new Set(rows.flatMap((r) => r.techniques))].sort();
  const n = items.length;
  const index = new Map(items.map((t, i) => [t, i]));
  const gram = new Float64Array(n * n);
  const popularity = new Float64Array(n);
  for (const row of rows) {
    const w = params.weights[row.kind];
    const ii = [...new Set(row.techniques)].map((t) => index.get(t) as number);
    for (const i of ii) {
      popularity[i] = (popularity[i] as number) + w;
      for (const j of ii) gram[i * n + j] = (gram[i * n + j] as number) + w;
    }
  }
  for (let i = 0; i < n; i++)
    gram[i * n + i] = (gram[i * n + i] as number) * (1 + params.emphasis) + params.lambda;
  const p = invertSymmetric(gram, n);
  const edges: SuggestionEdge[] = [];
  const row = new Array<{ j: number; w: number }>(n);
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      // B = I − P·diag(1/diag(P)), its diagonal forced to zero.
      const w = -(p[i * n + j] as number) / (p[j * n + j] as number);
      if (w > 0) row[count++] = { j, w };
    }
    const kept = row.slice(0, count).sort((a, b) => b.w - a.w || a.j - b.j);
    for (const { j, w } of kept.slice(0, params.keep))
      edges.push({ from: items[i] as string, to: items[j] as string, weight: w });
  }
  const top = Math.max(0, ...popularity);
  const prior = new Map(items.map((t, i) => [t, top > 0 ? (popularity[i] as number) / top : 0]));
  return { prior, edges };
}

/** Inverse of a symmetric positive definite matrix (Gauss–Jordan; no pivoting needed). */
function invertSymmetric(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    const pivot = m[c * n + c] as number;
    const cm = c * n;
    for (let k = 0; k < n; k++) {
      m[cm + k] = (m[cm + k] as number) / pivot;
      inv[cm + k] = (inv[cm + k] as number) / pivot;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c] as number;
      if (f === 0) continue;
      const rm = r * n;
      for (let k = 0; k < n; k++) {
        m[rm + k] = (m[rm + k] as number) - f * (m[cm + k] as number);
        inv[rm + k] = (inv[rm + k] as number) - f * (inv[cm + k] as number);
      }
    }
  }
  return inv;
}

/**
 * The weight of a left-out parent's part, times how likely the list names both levels: at 2, a
 * list that surely does ranks those parents above anything co-occurrence suggests, one that
 * likely does not keeps its order (`npm run bench:next-steps`, *both levels* against the rest).
 */
const FAMILY_WEIGHT = 2;

export interface Ranked {
  technique: string;
  score: number;
  /** The two parts of the score: learnt co-occurrence (0–1) and popularity (0–1). */
  cooccurrence: number;
  popularity: number;
  /** The tenant's own past incidents' part (0–1), when they were consulted. */
  history: number;
  /** For a parent the list leaves out, how likely the list names both levels (0–1). */
  family: number;
}

/**
 * Ranks techniques for an observed set: `sums` holds, per technique reached, the sum of the
 * SUGGESTS weights from the observed ones; `history` the tenant's past incidents' votes (0–1).
 */
export function rankSuggestions(input: {
  sums: Map<string, number>;
  prior: Map<string, number>;
  observed: Set<string>;
  history?: Map<string, number>;
  historyWeight?: number;
  /** The parents an observed list leaves out and how likely it names both levels. */
  family?: BothLevels;
  limit: number;
  /** Narrows the candidates; the scores stay on the scale of all of them. */
  keep?: (technique: string) => boolean;
  params?: SuggestionParams;
}): Ranked[] {
  const params = input.params ?? SUGGESTION_PARAMS;
  const hw = input.historyWeight ?? 0;
  // Weighted by the share, so a list unlikely to name both levels keeps its scores nearly as they were.
  const fw = FAMILY_WEIGHT * (input.family?.share ?? 0);
  const top = Math.max(0, ...input.sums.values());
  const candidates = new Set([...input.prior.keys(), ...input.sums.keys()]);
  for (const t of input.history?.keys() ?? []) candidates.add(t);
  for (const t of input.family?.parents.keys() ?? []) candidates.add(t);
  const out: Ranked[] = [];
  for (const t of candidates) {
    if (input.observed.has(t) || (input.keep && !input.keep(t))) continue;
    const cooccurrence = top > 0 ? Math.max(0, input.sums.get(t) ?? 0) / top : 0;
    const popularity = input.prior.get(t) ?? 0;
    const history = input.history?.get(t) ?? 0;
    const family = input.family?.parents.has(t) ? input.family.share : 0;
    // Scaled to 0–1: the parts' weights sum to one.
    const score =
      (cooccurrence + params.prior * popularity + hw * history + (family > 0 ? fw : 0)) /
      (1 + params.prior + hw + fw);
    if (score > 0) out.push({ technique: t, score, cooccurrence, popularity, history, family });
  }
  return best(out, input.limit);
}

/** Best first (ties by id), at most `limit`. */
function best(ranked: Ranked[], limit: number): Ranked[] {
  ranked.sort((a, b) => b.score - a.score || a.technique.localeCompare(b.technique));
  return ranked.slice(0, limit);
}

/**
 * Two rankings of the same set as one: every part weighted, `blend` for the second; a technique
 * either ranking lacks counts 0 there.
 */
export function blendRankings(
  first: Ranked[],
  second: Ranked[],
  blend: number,
  limit: number,
): Ranked[] {
  const out = new Map<string, Ranked>();
  const add = (list: Ranked[], w: number) => {
    for (const r of list) {
      const o = out.get(r.technique) ?? {
        technique: r.technique,
        score: 0,
        cooccurrence: 0,
        popularity: 0,
        history: 0,
        family: 0,
      };
      o.score += w * r.score;
      o.cooccurrence += w * r.cooccurrence;
      o.popularity += w * r.popularity;
      o.history += w * r.history;
      o.family += w * r.family;
      out.set(r.technique, o);
    }
  };
  add(first, 1 - blend);
  add(second, blend);
  return best([...out.values()], limit);
}
