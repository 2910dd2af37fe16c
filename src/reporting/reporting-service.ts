import { loadQueries } from '../shared/cypher';
import { BadRequestError, NotFoundError } from '../shared/errors';
import type { Graph } from '../shared/neo4j';
import { accessParams } from '../auth/access';
import type { Reader } from '../mappings/mapping-service';
import { candidateGroups, type CandidateGroup } from './candidates';
import { buildLayer, COMPARE, HEAT, type Layer, type LayerEntry } from './navigator';
import type { NextSteps, Resolved, Suggestion } from './next-steps';
import { likelyPaths, type PathsPlan } from './paths';
import { buildReport, type CoverageRow, type IncidentReport } from './report';
import type { Granularity } from './suggestions';

const QUERIES = [
  'reporting/incident-techniques',
  'reporting/matrix-tactics',
  'reporting/coverage',
  'reporting/attack-versions',
  'reporting/alert-techniques',
] as const;

/** Candidate groups and next steps a report lists. */
const REPORT_GROUPS = 10;
const REPORT_NEXT_STEPS = 10;

interface TacticRef {
  shortname: string;
  id: string | null;
  name: string;
  matrix: string;
  /** The matrix's domain (its ATT&CK id: enterprise-attack, mobile-attack, ics-attack). */
  domain: string | null;
  order: number;
}

/** One mapping of the incident, its alerts or their observables, with its technique. */
export interface Observation {
  mappingId: string;
  kind: 'incident' | 'alert' | 'observable';
  entityId: string;
  technique: string;
  /** Mapped techniques are active ones: a release's remap moves mappings off revoked techniques. */
  stixId: string;
  name: string;
  /** The tactic the mapping names, if it names one (then it counts for that tactic only). */
  tactic: string | null;
  /** How the technique was used, in the analyst's words. */
  procedure: string | null;
  occurredAt: string | null;
  tactics: TacticRef[];
}

/** The query's shape: each technique once, with its tactics and the mappings naming it. */
interface ObservedTechnique {
  technique: string;
  stixId: string;
  name: string;
  tactics: TacticRef[];
  mappings: Array<Omit<Observation, 'technique' | 'stixId' | 'name' | 'tactics'>>;
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

  async killChain(reader: Reader, incidentId: string): Promise<KillChain> {
    const [{ observed }, tactics] = await Promise.all([
      this.incident(reader, incidentId),
      this.graph.read<MatrixTactic>(this.q['reporting/matrix-tactics']),
    ]);
    return layOut(incidentId, observed, tactics);
  }

  /** The incident's mappings (its own, its alerts', their observables'); 404 when not the tenant's. */
  private async incident(reader: Reader, incidentId: string): Promise<IncidentRow> {
    const [row] = await this.graph.read<{
      incident: string;
      alerts: number;
      observables: number;
      techniques: ObservedTechnique[];
    }>(this.q['reporting/incident-techniques'], {
      tenant: reader.tenant,
      id: incidentId,
      ...accessParams(reader),
    });
    // Another tenant's incident answers exactly as a missing one.
    if (!row) throw new NotFoundError(`no incident with id ${incidentId}`);
    const { techniques, ...rest } = row;
    return {
      ...rest,
      observed: techniques.flatMap(({ mappings, ...t }) => mappings.map((m) => ({ ...m, ...t }))),
    };
  }

  private async observations(reader: Reader, incidentId: string): Promise<Observation[]> {
    return (await this.incident(reader, incidentId)).observed;
  }

  /** What covers each technique (STIX ids): mitigations, detection strategies and analytics. */
  private async coverage(techniques: string[]): Promise<CoverageRow[]> {
    if (techniques.length === 0) return [];
    return this.graph.read<CoverageRow>(this.q['reporting/coverage'], { techniques });
  }

  /** The likeliest ways from what the incident shows to a goal tactic, with their defences. */
  async paths(reader: Reader, incidentId: string, to: string, limit: number): Promise<PathsAnswer> {
    const [observed, snapshot] = await Promise.all([
      this.observations(reader, incidentId),
      this.nextSteps.snapshot(),
    ]);
    const resolved = asResolved(observed);
    const history = await this.nextSteps.history(reader, snapshot, resolved.observed, incidentId);
    const plan = likelyPaths(snapshot, resolved.observed, to, limit, history);
    if (!plan) throw new BadRequestError(`no loaded matrix has a tactic named ${to}`);
    const stepIds = [
      ...new Set(plan.paths.flatMap((p) => p.steps.map((s) => s.suggestion.stixId))),
    ];
    const cover = new Map((await this.coverage(stepIds)).map((c) => [c.id, c]));
    return {
      incident: incidentId,
      ...plan,
      observed: resolved.observed.map((id) => snapshot.techniques.get(id)?.attackId ?? id),
      paths: plan.paths.map((p) => ({
        score: p.score,
        steps: p.steps.map((step) => {
          const c = cover.get(step.suggestion.stixId);
          const detections = c?.detections ?? [];
          return {
            ...wireSuggestion(step.suggestion),
            tactic: step.tactic,
            mitigations: (c?.mitigations ?? []).map(({ text: _text, ...m }) => m),
            detections,
            gap: detections.length === 0,
          };
        }),
      })),
    };
  }

  /** The incident's ATT&CK report (JSON; markdown and HTML are rendered from it). */
  async report(reader: Reader, incidentId: string, now: string): Promise<IncidentReport> {
    const [row, tactics, attack] = await Promise.all([
      this.incident(reader, incidentId),
      this.graph.read<MatrixTactic>(this.q['reporting/matrix-tactics']),
      this.versions(),
    ]);
    const killChain = layOut(incidentId, row.observed, tactics);
    const resolved = asResolved(row.observed);
    const snapshot = await this.nextSteps.snapshot();
    const [history, coverage] = await Promise.all([
      this.nextSteps.history(reader, snapshot, resolved.observed, incidentId),
      this.coverage(resolved.observed),
    ]);
    const procedures = new Map<string, string[]>();
    for (const o of row.observed) {
      if (!o.procedure) continue;
      const list = procedures.get(o.technique) ?? [];
      if (!list.includes(o.procedure)) list.push(o.procedure);
      procedures.set(o.technique, list);
    }
    const ids = resolved.observed.map((id) => snapshot.techniques.get(id)?.attackId ?? id);
    return buildReport({
      killChain,
      procedures,
      entities: { alerts: row.alerts, observables: row.observables },
      coverage,
      candidates: candidateGroups(snapshot, ids, REPORT_GROUPS),
      nextSteps: snapshot
        .suggest(resolved.observed, REPORT_NEXT_STEPS, history)
        .suggestions.map(({ technique, name, tactics: t, phase, score }) => ({
          technique,
          name,
          tactics: t,
          phase,
          score,
        })),
      attack,
      now,
    });
  }

  /** The loaded ATT&CK domains and their versions. */
  private versions(): Promise<Array<{ domain: string; version: string | null }>> {
    return this.graph.read(this.q['reporting/attack-versions']);
  }

  /** Navigator layer: the incident's techniques, or the incident beside a group's. */
  async incidentLayer(reader: Reader, incidentId: string, group?: string): Promise<Layer> {
    const [row, attack] = await Promise.all([this.incident(reader, incidentId), this.versions()]);
    const seen = new Map<string, { name: string; sources: number; tactics: Set<string> }>();
    for (const o of row.observed) {
      const e = seen.get(o.technique) ?? { name: o.name, sources: 0, tactics: new Set() };
      e.sources += 1;
      if (o.tactic) e.tactics.add(o.tactic);
      seen.set(o.technique, e);
    }
    const domain = dominantDomain(
      row.observed.flatMap((o) => o.tactics.map((t) => t.domain ?? '')),
    );
    const version = attack.find((a) => a.domain === domain)?.version ?? null;
    if (group === undefined)
      return mappedLayer({
        subject: { name: 'incident', id: incidentId, tenant: reader.tenant },
        description: `Techniques mapped to incident ${incidentId}, its alerts and their observables; score = mappings.`,
        domain,
        version,
        techniques: [...seen].map(([technique, e]) => ({
          technique,
          name: e.name,
          mappings: e.sources,
          tactics: e.tactics,
        })),
      });
    const snapshot = await this.nextSteps.snapshot();
    const actor = snapshot.actors.find((a) => a.kind === 'group' && a.attackId === group);
    if (!actor) throw new NotFoundError(`no active ATT&CK group with id ${group}`);
    const theirs = new Set(
      actor.techniques.map((t) => snapshot.techniques.get(t)?.attackId).filter((x) => x),
    );
    const all = new Set([...seen.keys(), ...theirs]) as Set<string>;
    const [candidate] = candidateGroups(snapshot, [...seen.keys()], 1000).filter(
      (c) => c.id === group,
    );
    return buildLayer({
      name: `Incident ${incidentId} vs ${actor.name} (${group})`,
      description:
        `Score 3: in both; 2: the incident only; 1: ${actor.name} only. ` +
        `Weighted overlap ${candidate?.score ?? 0}.`,
      domain,
      attackVersion: version,
      entries: [...all].sort().map((technique) => {
        const inIncident = seen.has(technique);
        const inGroup = theirs.has(technique);
        const [score, color, comment] =
          inIncident && inGroup
            ? [3, COMPARE.both, 'seen in the incident and used by the group']
            : inIncident
              ? [2, COMPARE.incident, 'seen in the incident only']
              : [1, COMPARE.group, 'used by the group, not seen']; // prettier-ignore
        return { technique, score, color, comment };
      }),
      gradient: { colors: [COMPARE.group, COMPARE.both], min: 1, max: 3 },
      legend: [
        { label: 'Both', color: COMPARE.both },
        { label: 'Incident only', color: COMPARE.incident },
        { label: `${actor.name} only`, color: COMPARE.group },
      ],
      metadata: [
        { name: 'incident', value: incidentId },
        { name: 'group', value: `${group} ${actor.name}` },
        { name: 'shared', value: String(candidate?.shared.length ?? 0) },
      ],
    });
  }

  /** Navigator layer of an alert: its own mappings and its observables'. */
  async alertLayer(reader: Reader, alertId: string): Promise<Layer> {
    const [[row], attack] = await Promise.all([
      this.graph.read<{
        alert: string;
        techniques: Array<{
          technique: string;
          name: string;
          mappings: number;
          tactics: string[];
          domain: string | null;
        }>;
      }>(this.q['reporting/alert-techniques'], {
        tenant: reader.tenant,
        id: alertId,
        ...accessParams(reader),
      }),
      this.versions(),
    ]);
    if (!row) throw new NotFoundError(`no alert with id ${alertId}`);
    const domain = dominantDomain(row.techniques.map((t) => t.domain ?? ''));
    return mappedLayer({
      subject: { name: 'alert', id: alertId, tenant: reader.tenant },
      description: `Techniques mapped to alert ${alertId} and its observables; score = mappings.`,
      domain,
      version: attack.find((a) => a.domain === domain)?.version ?? null,
      techniques: row.techniques.map((t) => ({ ...t, tactics: new Set(t.tactics) })),
    });
  }

  /** What is likely to come next in an incident, from what its mappings observed. */
  async incidentNextSteps(
    reader: Reader,
    incidentId: string,
    limit: number,
  ): Promise<NextStepsAnswer> {
    const observed = await this.observations(reader, incidentId);
    return {
      incident: incidentId,
      ...(await this.answer(reader, asResolved(observed), limit, incidentId)),
    };
  }

  /** Next steps for a list of observed technique ids (ATT&CK or STIX; revoked ones replaced). */
  async suggest(reader: Reader, given: string[], limit: number): Promise<NextStepsAnswer> {
    return this.answer(reader, await this.nextSteps.resolve(given), limit, null);
  }

  private async answer(
    reader: Reader,
    resolved: Resolved,
    limit: number,
    exclude: string | null,
  ): Promise<NextStepsAnswer> {
    const snapshot = await this.nextSteps.snapshot();
    const history = await this.nextSteps.history(reader, snapshot, resolved.observed, exclude);
    const { level, suggestions } = snapshot.suggest(resolved.observed, limit, history);
    return {
      model: { data_version: snapshot.version, granularity: level.granularity },
      observed: resolved.observed.map((id) => snapshot.techniques.get(id)?.attackId ?? id),
      replaced: resolved.replaced,
      unknown: resolved.unknown,
      suggestions: suggestions.map(wireSuggestion),
    };
  }
}

/** An incident's techniques as the model takes them: its mappings name active techniques. */
function asResolved(observed: Observation[]): Resolved {
  return { observed: [...new Set(observed.map((o) => o.stixId))], replaced: [], unknown: [] };
}

/** A suggestion as the API and CLI give it: no internal key. */
export function wireSuggestion({ stixId: _stixId, ...rest }: Suggestion): WireSuggestion {
  return rest;
}

export type WireSuggestion = Omit<Suggestion, 'stixId'>;

interface IncidentRow {
  incident: string;
  alerts: number;
  observables: number;
  observed: Observation[];
}

export interface PathsAnswer extends Omit<PathsPlan, 'paths'> {
  incident: string;
  observed: string[];
  paths: Array<{
    score: number;
    steps: Array<
      WireSuggestion & {
        tactic: string;
        mitigations: Array<Omit<CoverageRow['mitigations'][number], 'text'>>;
        detections: CoverageRow['detections'];
        gap: boolean;
      }
    >;
  }>;
}

/** A layer of mapped techniques, each scored by how many mappings name it. */
function mappedLayer(input: {
  subject: { name: 'incident' | 'alert'; id: string; tenant: string };
  description: string;
  domain: string;
  version: string | null;
  techniques: Array<{ technique: string; name: string; mappings: number; tactics: Set<string> }>;
}): Layer {
  const { subject } = input;
  const max = Math.max(1, ...input.techniques.map((t) => t.mappings));
  return buildLayer({
    name: `${subject.name === 'incident' ? 'Incident' : 'Alert'} ${subject.id}`,
    description: input.description,
    domain: input.domain,
    attackVersion: input.version,
    entries: input.techniques.flatMap((t) =>
      entriesFor(t.technique, t.tactics, {
        score: t.mappings,
        comment: `${t.name}: ${t.mappings} mapping${t.mappings === 1 ? '' : 's'}`,
      }),
    ),
    gradient: { colors: HEAT, min: 0, max },
    legend: [{ label: `Mapped on the ${subject.name}`, color: HEAT[2] as string }],
    metadata: [
      { name: subject.name, value: subject.id },
      { name: 'tenant', value: subject.tenant },
    ],
  });
}

/** Entries of one technique: one per tactic the mappings named, else one for all its tactics. */
function entriesFor(
  technique: string,
  tactics: Set<string>,
  e: Omit<LayerEntry, 'technique' | 'tactic'>,
): LayerEntry[] {
  return tactics.size === 0
    ? [{ technique, ...e }]
    : [...tactics].map((tactic) => ({ technique, tactic, ...e }));
}

const DOMAINS = new Set(['enterprise-attack', 'mobile-attack', 'ics-attack']);

/** The Navigator domain most values name; a layer has one, Enterprise when nothing says. */
export function dominantDomain(values: string[]): string {
  const count = new Map<string, number>();
  for (const d of values) if (DOMAINS.has(d)) count.set(d, (count.get(d) ?? 0) + 1);
  return (
    [...count].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ??
    'enterprise-attack'
  );
}

export type { CandidateGroup };

export interface NextStepsAnswer {
  incident?: string;
  /** The model's data and the level it answered at (techniques alone for callers who use them). */
  model: { data_version: string; granularity: Granularity };
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
