import { loadQueries } from '../shared/cypher';
import { NotLoadedError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Graph, Tx } from '../shared/neo4j';
import { accessParams } from '../auth/access';
import type { Reader } from '../mappings/mapping-service';
import {
  answerLevel,
  blendRankings,
  bothLevels,
  pairRate,
  fitSuggestions,
  parentNamingRates,
  rankSuggestions,
  SUGGESTION_PARAMS,
  corpusRows,
  toUses,
  GRANULARITIES,
  type ActorKind,
  type AnswerLevel,
  type BothLevels,
  type Granularity,
  type Level,
  type UseRecord,
  type Ranked,
} from './suggestions';

const QUERIES = [
  'attack/data-version',
  'mappings/resolve-techniques',
  'reporting/suggestion-corpus',
  'reporting/suggestion-clear',
  'reporting/suggestion-edges',
  'reporting/suggestion-priors',
  'reporting/suggestion-record',
  'reporting/suggestion-state',
  'reporting/suggestion-snapshot',
  'reporting/suggestion-actors',
  'reporting/next-steps-history',
  'reporting/technique-ids',
] as const;

/** Past incidents consulted per request, and their share of a score (not measurable on ATT&CK). */
const HISTORY_INCIDENTS = 50;
const HISTORY_WEIGHT = 0.5;
/** Actors listed as evidence per suggestion. */
const ACTORS_SHOWN = 5;
/** The levels actors are counted at: the mixed model has no actors of its own. */
const LEVELS: readonly Level[] = ['sub-technique', 'technique'];
/** The shape the model is kept in: a model another format wrote is rebuilt, whatever its data. */
const MODEL_FORMAT = 3;

export interface TacticPlace {
  tactic: string;
  matrix: string;
  order: number;
}

export interface SnapshotTechnique {
  id: string;
  attackId: string;
  name: string;
  /** The parent technique of a sub-technique. */
  parent: string | null;
  prior: Record<Granularity, number>;
  tactics: TacticPlace[];
  suggests: Record<Granularity, Array<{ to: string; weight: number }>>;
}

export interface SnapshotActor {
  id: string;
  attackId: string;
  name: string;
  kind: ActorKind;
  firstSeen: string | null;
  lastSeen: string | null;
  techniques: string[];
}

/** The model as read from the graph once per data version: what every answer is scored with. */
export class Snapshot {
  readonly techniques: Map<string, SnapshotTechnique>;
  /** Per granularity, the candidates and their popularity (techniques alone at `technique`). */
  private readonly prior: Record<Granularity, Map<string, number>>;
  /** Per level, the actors using each technique (or, at `technique`, one of its family). */
  private readonly users: Record<Level, Map<string, SnapshotActor[]>>;
  /** Techniques that have sub-techniques, with theirs. */
  private readonly families = new Map<string, string[]>();
  /** How often ATT&CK's actors name each family by its parent: the base rates of the level rule. */
  private readonly parentRate: (family: string) => number;
  /** How often they name a parent beside its sub-technique: the base rate of the both-levels rule. */
  private readonly pairRate: number;

  constructor(
    readonly version: string,
    techniques: SnapshotTechnique[],
    readonly actors: SnapshotActor[],
  ) {
    this.techniques = new Map(techniques.map((t) => [t.id, t]));
    for (const t of techniques) {
      if (!t.parent) continue;
      const subs = this.families.get(t.parent);
      if (subs) subs.push(t.id);
      else this.families.set(t.parent, [t.id]);
    }
    this.prior = {
      'sub-technique': new Map(techniques.map((t) => [t.id, t.prior['sub-technique']])),
      technique: new Map(techniques.filter((t) => !t.parent).map((t) => [t.id, t.prior.technique])),
      mixed: new Map(techniques.map((t) => [t.id, t.prior.mixed])),
    };
    this.users = { 'sub-technique': new Map(), technique: new Map() };
    for (const g of LEVELS) {
      const users = this.users[g];
      for (const a of actors)
        for (const t of this.atLevel(a.techniques, g)) {
          const list = users.get(t);
          if (list) list.push(a);
          else users.set(t, [a]);
        }
    }
    const sets = actors.map((a) => a.techniques);
    this.parentRate = parentNamingRates(sets, this.familyOf);
    this.pairRate = pairRate(sets, this.familyOf);
  }

  private readonly familyOf = (id: string): string | null =>
    this.techniques.get(id)?.parent ?? (this.families.has(id) ? id : null);

  /** Techniques as counted at a granularity: a sub-technique is its parent at `technique`. */
  private atLevel(ids: Iterable<string>, granularity: Granularity): Set<string> {
    if (granularity !== 'technique') return new Set(ids);
    return new Set([...ids].map((id) => this.techniques.get(id)?.parent ?? id));
  }

  /**
   * What counts as each observed technique when past incidents are looked up: itself, and for a
   * parent its sub-techniques (naming the parent says the family, not which member).
   */
  family(observed: string[]): Array<{ observed: string; technique: string }> {
    return observed.flatMap((o) =>
      [o, ...(this.families.get(o) ?? [])].map((technique) => ({ observed: o, technique })),
    );
  }

  /** The level an observed set (STIX ids) is answered at. */
  private level(observed: Iterable<string>): AnswerLevel {
    return answerLevel(observed, this.familyOf, this.parentRate);
  }

  private usersOf(technique: string, granularity: Level): SnapshotActor[] {
    return this.users[granularity].get(technique) ?? [];
  }

  /** How many of the observed techniques each actor uses (actors using none are absent). */
  private sharedCounts(seen: Set<string>, granularity: Level): Map<SnapshotActor, number> {
    const out = new Map<SnapshotActor, number>();
    for (const t of this.atLevel(seen, granularity))
      for (const a of this.usersOf(t, granularity)) out.set(a, (out.get(a) ?? 0) + 1);
    return out;
  }

  /**
   * Ranked suggestions for an observed set of STIX ids, with their evidence; `history` holds the
   * tenant's past incidents that share observed techniques.
   */
  suggest(
    observed: string[],
    limit: number,
    history: HistoryRow[] = [],
  ): { level: AnswerLevel; suggestions: Suggestion[] } {
    const scored = this.rank(observed, limit, history);
    return { level: scored.level, suggestions: scored.ranked.map((r) => this.explain(r, scored)) };
  }

  /** The ranking alone; `keep` narrows the candidates (a path's next tactics). */
  rank(
    observed: Iterable<string>,
    limit: number,
    history: HistoryRow[] = [],
    keep?: (t: SnapshotTechnique) => boolean,
  ): Scored {
    const seen = new Set(observed);
    const level = this.level(seen);
    const family = bothLevels(seen, this.familyOf, this.pairRate);
    const from = new Map<string, Array<{ technique: string; weight: number }>>();
    const keepId =
      keep &&
      ((id: string) => {
        const t = this.techniques.get(id);
        return t !== undefined && keep(t);
      });
    const rankAt = (granularity: Granularity, max: number) => {
      const at = this.atLevel(seen, granularity);
      const sums = new Map<string, number>();
      for (const o of at) {
        const t = this.techniques.get(o);
        if (!t) continue;
        for (const s of t.suggests[granularity]) {
          sums.set(s.to, (sums.get(s.to) ?? 0) + s.weight);
          const list = from.get(s.to) ?? [];
          const same = list.find((x) => x.technique === t.attackId);
          if (same) same.weight = Math.max(same.weight, round(s.weight));
          else list.push({ technique: t.attackId, weight: round(s.weight) });
          from.set(s.to, list);
        }
      }
      // Past incidents vote at the model's granularity: their sub-techniques as their parents.
      const votes = historyVotes(
        history.map((h) => ({ ...h, techniques: [...this.atLevel(h.techniques, granularity)] })),
        at,
      );
      const ranked = rankSuggestions({
        sums,
        prior: this.prior[granularity],
        observed: at,
        history: votes.scores,
        historyWeight: history.length > 0 ? HISTORY_WEIGHT : 0,
        family,
        limit: max,
        keep: keepId,
      });
      return { ranked, support: votes.support };
    };
    if (level.granularity !== 'mixed') {
      const { ranked, support } = rankAt(level.granularity, limit);
      return { seen, level, family, ranked, from, support, shared: {} };
    }
    // Both levels in one set: ATT&CK's granularity and the mixed model rank every candidate.
    const fine = rankAt('sub-technique', Infinity);
    const mixed = rankAt('mixed', Infinity);
    return {
      seen,
      level,
      family,
      ranked: blendRankings(fine.ranked, mixed.ranked, level.blend, limit),
      from,
      support: new Map([...mixed.support, ...fine.support]),
      shared: {},
    };
  }

  /** A ranked technique with its evidence: what points to it, who uses it too, past incidents. */
  explain(r: Ranked, scored: Scored): Suggestion {
    const { seen, level } = scored;
    const t = this.techniques.get(r.technique) as SnapshotTechnique;
    // Who uses it, at its own level in a mixed answer: a parent through its sub-techniques.
    const granularity: Level =
      level.granularity === 'mixed'
        ? t.parent
          ? 'sub-technique'
          : 'technique'
        : level.granularity;
    const shared = (scored.shared[granularity] ??= this.sharedCounts(seen, granularity));
    const supporters = this.usersOf(r.technique, granularity)
      .map((a) => ({ a, shared: shared.get(a) ?? 0 }))
      .filter((s) => s.shared > 0)
      .sort((x, y) => y.shared - x.shared || x.a.attackId.localeCompare(y.a.attackId));
    scored.latest ??= Math.max(
      -1,
      ...[...seen].flatMap((o) => this.techniques.get(o)?.tactics.map((p) => p.order) ?? []),
    );
    const latest = scored.latest;
    const orders = t.tactics.map((p) => p.order);
    return {
      technique: t.attackId,
      stixId: t.id,
      name: t.name,
      tactics: t.tactics.map((p) => p.tactic),
      // Where it sits against the latest observed phase (matrix order): next, or alongside.
      phase:
        latest < 0 || orders.length === 0
          ? 'unknown'
          : orders.some((o) => o > latest)
            ? 'later'
            : orders.includes(latest)
              ? 'same'
              : 'earlier',
      score: round(r.score),
      parts: {
        cooccurrence: round(r.cooccurrence),
        popularity: round(r.popularity),
        history: round(r.history),
        family: round(r.family),
      },
      evidence: {
        observed: [...(scored.from.get(r.technique) ?? [])]
          .sort((x, y) => y.weight - x.weight)
          .slice(0, 3),
        actors: supporters.slice(0, ACTORS_SHOWN).map(({ a, shared }) => ({
          id: a.attackId,
          name: a.name,
          kind: a.kind,
          shared,
          ...(a.kind === 'campaign' ? { first_seen: a.firstSeen, last_seen: a.lastSeen } : {}),
        })),
        actors_total: supporters.length,
        incidents: scored.support.get(r.technique) ?? [],
        ...(r.family > 0
          ? {
              sub_techniques: (scored.family.parents.get(r.technique) ?? []).map(
                (id) => this.techniques.get(id)?.attackId ?? id,
              ),
            }
          : {}),
      },
    };
  }
}

export interface HistoryRow {
  incident: string;
  shared: number;
  techniques: string[];
}

export interface Scored {
  seen: Set<string>;
  level: AnswerLevel;
  /** Whether the list names both levels, and the parents it leaves out. */
  family: BothLevels;
  /** Per level and actor, the observed techniques it uses: counted at first explanation. */
  shared: Partial<Record<Level, Map<SnapshotActor, number>>>;
  /** The latest observed tactic's matrix order (-1: none): found at the first explanation. */
  latest?: number;
  ranked: Ranked[];
  from: Map<string, Array<{ technique: string; weight: number }>>;
  support: Map<string, Array<{ incident: string; shared: number }>>;
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** Each past incident votes for its techniques by how much it shares (shrunk when few do). */
function historyVotes(
  history: HistoryRow[],
  observed: Set<string>,
): {
  scores: Map<string, number>;
  support: Map<string, Array<{ incident: string; shared: number }>>;
} {
  const scores = new Map<string, number>();
  const support = new Map<string, Array<{ incident: string; shared: number }>>();
  let total = 1; // one pseudo-incident that votes for nothing: a single match is not certainty
  for (const h of history) {
    const sim = h.shared / Math.sqrt(Math.max(1, h.techniques.length));
    total += sim;
    for (const t of h.techniques) {
      if (observed.has(t)) continue;
      scores.set(t, (scores.get(t) ?? 0) + sim);
      const list = support.get(t) ?? [];
      if (list.length < 5) list.push({ incident: h.incident, shared: h.shared });
      support.set(t, list);
    }
  }
  for (const [t, s] of scores) scores.set(t, s / total);
  return { scores, support };
}

export interface Suggestion {
  technique: string;
  stixId: string;
  name: string;
  tactics: string[];
  phase: 'later' | 'same' | 'earlier' | 'unknown';
  score: number;
  parts: { cooccurrence: number; popularity: number; history: number; family: number };
  evidence: {
    observed: Array<{ technique: string; weight: number }>;
    actors: Array<{
      id: string;
      name: string;
      kind: ActorKind;
      shared: number;
      first_seen?: string | null;
      last_seen?: string | null;
    }>;
    actors_total: number;
    incidents: Array<{ incident: string; shared: number }>;
    /** For a parent the list leaves out, the observed sub-techniques of its family. */
    sub_techniques?: string[];
  };
}

interface ResolvedRow {
  given: string;
  stixId: string;
  activeStixId: string;
  activeAttackId: string;
  activeRevoked: boolean | null;
}

function resolveWith(found: Map<string, ResolvedRow>, given: string[]): Resolved {
  const out: Resolved = { observed: [], replaced: [], unknown: [] };
  for (const g of new Set(given)) {
    const r = found.get(g);
    // A chain of revocations that ends nowhere active is as unknown as a wrong id.
    if (!r || r.activeRevoked) {
      out.unknown.push(g);
      continue;
    }
    out.observed.push(r.activeStixId);
    if (r.activeStixId !== r.stixId) out.replaced.push({ given: g, technique: r.activeAttackId });
  }
  out.observed = [...new Set(out.observed)];
  return out;
}

export interface Resolved {
  /** STIX ids of the active techniques the input names. */
  observed: string[];
  /** Inputs naming a revoked technique, with the technique that replaced it. */
  replaced: Array<{ given: string; technique: string }>;
  unknown: string[];
}

/** What a rebuild learnt from and wrote. */
interface Built {
  version: string;
  edges: number;
  actors: number;
  reports: number;
}

/**
 * The next-step model's owner: rebuilds the SUGGESTS edges after a release (in one transaction,
 * so readers see the old model or the new one) and keeps one snapshot per data version in memory.
 */
export class NextSteps {
  private readonly q = loadQueries(QUERIES);
  private current: Snapshot | null = null;
  private checkedAt = 0;
  private loading: Promise<Snapshot> | null = null;

  constructor(
    private readonly graph: Graph,
    private readonly log: Logger,
    private readonly checkMs = 5_000,
  ) {}

  /** Rebuilds the model from the graph's current ATT&CK data (the post-release step). */
  async rebuild(): Promise<Built> {
    const started = Date.now();
    const built = await this.graph.writeTransaction((tx) => this.rebuildIn(tx));
    this.checkedAt = 0;
    this.log.info({ ...built, ms: Date.now() - started }, 'next-step model rebuilt');
    return built;
  }

  private async rebuildIn(tx: Tx): Promise<Built> {
    const [v] = await tx.run<{ version: string[] }>(this.q['attack/data-version']);
    const version = (v?.version ?? []).join('|');
    const uses = await tx.run<UseRecord>(this.q['reporting/suggestion-corpus']);
    const corpus = toUses(uses);
    const rows = corpusRows(corpus);
    const reports = rows.filter((r) => r.kind === 'report').length;
    const models = {
      'sub-technique': fitSuggestions(rows),
      technique: fitSuggestions(corpusRows(corpus, 'technique')),
      mixed: fitSuggestions(corpusRows(corpus, 'mixed')),
    };
    await tx.run(this.q['reporting/suggestion-clear']);
    const edges = GRANULARITIES.flatMap((granularity) =>
      models[granularity].edges.map((e) => ({ ...e, granularity })),
    );
    for (let i = 0; i < edges.length; i += 10_000)
      await tx.run(this.q['reporting/suggestion-edges'], { rows: edges.slice(i, i + 10_000) });
    const priors = GRANULARITIES.map((g) => models[g].prior);
    await tx.run(this.q['reporting/suggestion-priors'], {
      rows: [...new Set(priors.flatMap((p) => [...p.keys()]))].map((id) => ({
        id,
        prior: models['sub-technique'].prior.get(id) ?? null,
        techniquePrior: models.technique.prior.get(id) ?? null,
        mixedPrior: models.mixed.prior.get(id) ?? null,
      })),
    });
    const built = { version, edges: edges.length, actors: rows.length - reports, reports };
    await tx.run(this.q['reporting/suggestion-record'], {
      ...built,
      params: JSON.stringify(SUGGESTION_PARAMS),
      format: MODEL_FORMAT,
    });
    return built;
  }

  /** The snapshot of the current model, rebuilt first when the data moved on without it. */
  async snapshot(): Promise<Snapshot> {
    const now = Date.now();
    if (this.current && now - this.checkedAt < this.checkMs) return this.current;
    const version = await this.graph.readTransaction(async (tx) => {
      const [v] = await tx.run<{ version: string[] }>(this.q['attack/data-version']);
      const [m] = await tx.run<{ built: string | null }>(this.q['reporting/suggestion-state'], {
        format: MODEL_FORMAT,
      });
      return { data: (v?.version ?? []).join('|'), built: m?.built ?? null };
    });
    this.checkedAt = now;
    if (version.data === '')
      throw new NotLoadedError('no ATT&CK release loaded yet: nothing to predict from');
    if (this.current?.version === version.data) return this.current;
    this.loading ??= (async () => {
      // A graph imported before this model existed, or a release whose post-release step failed.
      if (version.built !== version.data) await this.rebuild();
      return this.load();
    })().finally(() => {
      this.loading = null;
    });
    this.current = await this.loading;
    return this.current;
  }

  private async load(): Promise<Snapshot> {
    return this.graph.readTransaction(async (tx) => {
      const [m] = await tx.run<{ built: string | null }>(this.q['reporting/suggestion-state'], {
        format: MODEL_FORMAT,
      });
      const techniques = await tx.run<SnapshotTechnique>(this.q['reporting/suggestion-snapshot']);
      const actors = await tx.run<SnapshotActor>(this.q['reporting/suggestion-actors']);
      return new Snapshot(m?.built ?? '', techniques, actors);
    });
  }

  /** Given ids (ATT&CK or STIX) → active techniques: revoked ones replaced, unknown ones listed. */
  async resolve(given: string[]): Promise<Resolved> {
    return resolveWith(await this.lookup([...new Set(given)]), given);
  }

  /** A resolver over every technique id, read once (the CLI answers many lines with it). */
  async resolver(): Promise<(given: string[]) => Resolved> {
    const [row] = await this.graph.read<{ ids: string[] }>(this.q['reporting/technique-ids']);
    const found = await this.lookup(row?.ids ?? []);
    return (given) => resolveWith(found, given);
  }

  private async lookup(ids: string[]): Promise<Map<string, ResolvedRow>> {
    const rows = await this.graph.read<ResolvedRow>(this.q['mappings/resolve-techniques'], { ids });
    return new Map(rows.map((r) => [r.given, r]));
  }

  /**
   * The tenant's past incidents sharing observed techniques (tenant-scoped, those the reader sees);
   * an observed parent is shared by an incident that shows one of its sub-techniques.
   */
  async history(
    reader: Reader,
    snapshot: Snapshot,
    observed: string[],
    exclude: string | null,
  ): Promise<HistoryRow[]> {
    if (observed.length === 0) return [];
    return this.graph.read(this.q['reporting/next-steps-history'], {
      tenant: reader.tenant,
      ...accessParams(reader),
      observed: snapshot.family(observed),
      exclude,
      limit: HISTORY_INCIDENTS,
    });
  }
}
