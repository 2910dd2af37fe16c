import { loadQueries } from '../shared/cypher';
import { NotFoundError } from '../shared/errors';
import type { Graph } from '../shared/neo4j';
import type { NextSteps, Resolved, Suggestion } from './next-steps';

const QUERIES = ['reporting/incident-techniques', 'reporting/matrix-tactics'] as const;

interface TacticRef {
  shortname: string;
  id: string | null;
  name: string;
  matrix: string;
  order: number;
}

/** One mapping of the incident, its alerts or their observables, as the query reads it. */
interface Observation {
  mappingId: string;
  kind: 'incident' | 'alert' | 'observable';
  entityId: string;
  technique: string;
  name: string;
  subtechnique: boolean;
  /** The tactic the mapping names, if it names one (then it counts for that tactic only). */
  tactic: string | null;
  confidence: number;
  source: string;
  occurredAt: string | null;
  mappedAt: string;
  tactics: TacticRef[];
}

interface MatrixTactic {
  matrix: string;
  shortname: string;
  id: string | null;
  name: string;
  order: number;
  techniques: number;
}

export interface KillChainSource {
  kind: Observation['kind'];
  entity_id: string;
  mapping_id: string;
  occurred_at: string | null;
}

export interface KillChainPhase {
  tactic: string;
  id: string | null;
  name: string;
  order: number;
  observed: boolean;
  first_seen: string | null;
  last_seen: string | null;
  techniques_total: number;
  techniques: Array<{ technique: string; name: string; sources: KillChainSource[] }>;
}

export interface KillChain {
  incident: string;
  matrices: Array<{
    matrix: string;
    phases: KillChainPhase[];
    /** Observed tactics by the time each was first seen; tactics first seen at once are tied. */
    progression: Array<{ tactic: string; first_seen: string; tied: boolean }>;
    /** Observed, but with no occurred_at on any of their mappings: not placed in time. */
    untimed: string[];
    /** Tactics between the earliest and the latest observed in matrix order, not observed. */
    skipped: string[];
    coverage: {
      tactics_observed: number;
      tactics_total: number;
      techniques_observed: number;
    };
  }>;
  /** Techniques mapped but in no matrix tactic (none of their tactics is in an active matrix). */
  unplaced: string[];
}

/** Reports on tenant data: an incident's kill chain (every query scoped by the tenant). */
export class ReportingService {
  private readonly q = loadQueries(QUERIES);

  constructor(
    private readonly graph: Graph,
    readonly nextSteps: NextSteps,
  ) {}

  async killChain(tenant: string, incidentId: string): Promise<KillChain> {
    const [observed, tactics] = await Promise.all([
      this.observations(tenant, incidentId),
      this.graph.read<MatrixTactic>(this.q['reporting/matrix-tactics']),
    ]);
    return layOut(incidentId, observed, tactics);
  }

  /** The incident's mappings (its own, its alerts', their observables'); 404 when not the tenant's. */
  private async observations(tenant: string, incidentId: string): Promise<Observation[]> {
    const [row] = await this.graph.read<{ incident: string; observed: Observation[] }>(
      this.q['reporting/incident-techniques'],
      { tenant, id: incidentId },
    );
    // Another tenant's incident answers exactly as a missing one.
    if (!row) throw new NotFoundError(`no incident with id ${incidentId}`);
    return row.observed;
  }

  /** What is likely to come next in an incident, from what its mappings observed. */
  async incidentNextSteps(
    tenant: string,
    incidentId: string,
    limit: number,
  ): Promise<NextStepsAnswer> {
    const observed = await this.observations(tenant, incidentId);
    const answer = await this.suggest(
      tenant,
      observed.map((o) => o.technique),
      limit,
      incidentId,
    );
    return { incident: incidentId, ...answer };
  }

  /** Next steps for a list of observed technique ids (ATT&CK or STIX; revoked ones replaced). */
  async suggest(
    tenant: string,
    given: string[],
    limit: number,
    exclude: string | null = null,
  ): Promise<NextStepsAnswer> {
    const [snapshot, resolved] = await Promise.all([
      this.nextSteps.snapshot(),
      this.nextSteps.resolve(given),
    ]);
    const history = await this.nextSteps.history(tenant, resolved.observed, exclude);
    return {
      model: { data_version: snapshot.version },
      observed: resolved.observed.map((id) => snapshot.techniques.get(id)?.attackId ?? id),
      replaced: resolved.replaced,
      unknown: resolved.unknown,
      suggestions: snapshot.suggest(resolved.observed, limit, history).map(wireSuggestion),
    };
  }
}

/** A suggestion as the API and CLI give it: no internal key. */
function wireSuggestion({ stixId: _stixId, ...rest }: Suggestion): WireSuggestion {
  return rest;
}

export type WireSuggestion = Omit<Suggestion, 'stixId'>;

export interface NextStepsAnswer {
  incident?: string;
  model: { data_version: string };
  observed: string[];
  replaced: Resolved['replaced'];
  unknown: string[];
  suggestions: WireSuggestion[];
}

/** The pure part: observations laid out on each matrix's tactics, in kill-chain order. */
export function layOut(
  incident: string,
  observed: Observation[],
  tactics: MatrixTactic[],
): KillChain {
  const matrices = [...new Set(tactics.map((t) => t.matrix))];
  const placed = new Set<string>();
  const out: KillChain['matrices'] = [];
  for (const matrix of matrices) {
    const phases: KillChainPhase[] = tactics
      .filter((t) => t.matrix === matrix)
      .sort((a, b) => a.order - b.order)
      .map((t) => ({
        tactic: t.shortname,
        id: t.id,
        name: t.name,
        order: t.order,
        observed: false,
        first_seen: null,
        last_seen: null,
        techniques_total: t.techniques,
        techniques: [],
      }));
    const byTactic = new Map(phases.map((p) => [p.tactic, p]));
    const techniques = new Set<string>();
    for (const o of observed) {
      for (const ref of o.tactics) {
        if (ref.matrix !== matrix) continue;
        // A mapping that names its tactic counts there only.
        if (o.tactic !== null && o.tactic !== ref.shortname) continue;
        const phase = byTactic.get(ref.shortname);
        if (!phase) continue;
        placed.add(o.technique);
        techniques.add(o.technique);
        phase.observed = true;
        let t = phase.techniques.find((x) => x.technique === o.technique);
        if (!t) {
          t = { technique: o.technique, name: o.name, sources: [] };
          phase.techniques.push(t);
        }
        t.sources.push({
          kind: o.kind,
          entity_id: o.entityId,
          mapping_id: o.mappingId,
          occurred_at: o.occurredAt,
        });
        if (o.occurredAt) {
          if (!phase.first_seen || o.occurredAt < phase.first_seen) phase.first_seen = o.occurredAt;
          if (!phase.last_seen || o.occurredAt > phase.last_seen) phase.last_seen = o.occurredAt;
        }
      }
    }
    const seen = phases.filter((p) => p.observed);
    if (seen.length === 0) continue;
    for (const p of seen) {
      p.techniques.sort((a, b) => a.technique.localeCompare(b.technique));
      for (const t of p.techniques)
        t.sources.sort(
          (a, b) =>
            (a.occurred_at ?? '~').localeCompare(b.occurred_at ?? '~') ||
            a.mapping_id.localeCompare(b.mapping_id),
        );
    }
    const timed = seen
      .filter((p) => p.first_seen !== null)
      .sort(
        (a, b) =>
          (a.first_seen as string).localeCompare(b.first_seen as string) || a.order - b.order,
      );
    const first = seen[0] as KillChainPhase;
    const last = seen[seen.length - 1] as KillChainPhase;
    out.push({
      matrix,
      phases,
      progression: timed.map((p) => ({
        tactic: p.tactic,
        first_seen: p.first_seen as string,
        tied: timed.some((q) => q !== p && q.first_seen === p.first_seen),
      })),
      untimed: seen.filter((p) => p.first_seen === null).map((p) => p.tactic),
      skipped: phases
        .filter((p) => !p.observed && p.order > first.order && p.order < last.order)
        .map((p) => p.tactic),
      coverage: {
        tactics_observed: seen.length,
        tactics_total: phases.length,
        techniques_observed: techniques.size,
      },
    });
  }
  return {
    incident,
    matrices: out,
    unplaced: [...new Set(observed.map((o) => o.technique))].filter((t) => !placed.has(t)).sort(),
  };
}
