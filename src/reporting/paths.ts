import type { HistoryRow, Scored, Snapshot, SnapshotTechnique, Suggestion } from './next-steps';
import type { Ranked } from './suggestions';

/** Techniques tried at each step of a path, paths kept between steps, steps at most. */
const BRANCH = 4;
const BEAM = 12;
const MAX_STEPS = 6;

export interface PathStepPlan {
  tactic: string;
  order: number;
  suggestion: Suggestion;
}

export interface PathPlan {
  /** Geometric mean of the steps' scores: a long path of likely steps is not penalised. */
  score: number;
  steps: PathStepPlan[];
}

export interface PathsPlan {
  matrix: string;
  goal: { tactic: string; order: number };
  /** The latest observed tactic in that matrix (null when none was observed there). */
  from: { tactic: string; order: number } | null;
  /** The goal tactic was observed already: the paths lead to more of it. */
  reached: boolean;
  paths: PathPlan[];
}

interface State {
  steps: Array<{ tactic: string; order: number; ranked: Ranked; scored: Scored }>;
  seen: string[];
  order: number;
  logSum: number;
}

const geometric = (s: State) => Math.exp(s.logSum / Math.max(1, s.steps.length));

/**
 * The most likely ways from what was observed to a goal tactic: a beam search where each step is a
 * technique of a later tactic (matrix order) up to the goal, ranked by the next-step model given
 * everything observed and stepped through so far. Null when no matrix has that tactic.
 */
export function likelyPaths(
  snapshot: Snapshot,
  observed: string[],
  goal: string,
  limit: number,
  history: HistoryRow[] = [],
): PathsPlan | null {
  const matrix = chooseMatrix(snapshot, observed, goal);
  if (!matrix) return null;
  const places = (t: SnapshotTechnique | undefined) =>
    (t?.tactics ?? []).filter((p) => p.matrix === matrix.name);
  const latest = observed
    .flatMap((o) => places(snapshot.techniques.get(o)))
    .sort((a, b) => b.order - a.order)[0];
  const reached = latest !== undefined && latest.order >= matrix.order;
  // When the goal was reached, the paths go straight to more of it.
  const start = reached ? matrix.order - 1 : (latest?.order ?? -1);
  let states: State[] = [{ steps: [], seen: observed, order: start, logSum: 0 }];
  const finished: State[] = [];
  for (let depth = 0; depth < MAX_STEPS && states.length > 0; depth++) {
    const next: State[] = [];
    for (const state of states) {
      const ahead = (t: SnapshotTechnique) =>
        places(t).some((p) => p.order > state.order && p.order <= matrix.order);
      const scored = snapshot.rank(state.seen, BRANCH, history, ahead);
      for (const ranked of scored.ranked) {
        const t = snapshot.techniques.get(ranked.technique) as SnapshotTechnique;
        const ps = places(t).filter((p) => p.order > state.order && p.order <= matrix.order);
        // A technique of the goal tactic ends the path there; else it stands for its nearest tactic.
        const place =
          ps.find((p) => p.order === matrix.order) ?? ps.sort((a, b) => a.order - b.order)[0];
        if (!place) continue;
        const grown: State = {
          steps: [...state.steps, { tactic: place.tactic, order: place.order, ranked, scored }],
          seen: [...state.seen, ranked.technique],
          order: place.order,
          logSum: state.logSum + Math.log(ranked.score),
        };
        (place.order === matrix.order ? finished : next).push(grown);
      }
    }
    states = next.sort((a, b) => geometric(b) - geometric(a)).slice(0, BEAM);
  }
  const unique = new Map<string, State>();
  for (const s of finished.sort((a, b) => geometric(b) - geometric(a))) {
    const key = s.steps.map((x) => x.ranked.technique).join('>');
    if (!unique.has(key)) unique.set(key, s);
  }
  return {
    matrix: matrix.name,
    goal: { tactic: goal, order: matrix.order },
    from: latest ? { tactic: latest.tactic, order: latest.order } : null,
    reached,
    paths: [...unique.values()].slice(0, limit).map((s) => ({
      score: Math.round(geometric(s) * 10_000) / 10_000,
      steps: s.steps.map((x) => ({
        tactic: x.tactic,
        order: x.order,
        suggestion: snapshot.explain(x.ranked, x.scored),
      })),
    })),
  };
}

/** The matrix holding the goal tactic where most observed techniques sit (then by name). */
function chooseMatrix(
  snapshot: Snapshot,
  observed: string[],
  goal: string,
): { name: string; order: number } | null {
  const orders = new Map<string, number>();
  for (const t of snapshot.techniques.values())
    for (const p of t.tactics) if (p.tactic === goal) orders.set(p.matrix, p.order);
  const count = (m: string) =>
    observed.filter((o) => snapshot.techniques.get(o)?.tactics.some((p) => p.matrix === m)).length;
  const [best] = [...orders.keys()].sort((a, b) => count(b) - count(a) || a.localeCompare(b));
  return best === undefined ? null : { name: best, order: orders.get(best) as number };
}
