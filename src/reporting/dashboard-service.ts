import { loadQueries } from '../shared/cypher';
import type { Graph } from '../shared/neo4j';
import { accessParams, type Viewer } from '../auth/access';
import { buildLayer, HEAT, type Layer } from './navigator';

const QUERIES = [
  'reporting/dashboard-breakdown',
  'reporting/dashboard-totals',
  'reporting/dashboard-phases',
  'reporting/dashboard-tenants',
  'reporting/attack-versions',
] as const;

export type BreakdownBy = 'tactic' | 'technique' | 'sub-technique';
export type EntityKind = 'incident' | 'alert' | 'observable';

export interface BreakdownQuery {
  /** One tenant, or null for every tenant (a superuser's view). */
  tenant: string | null;
  by: BreakdownBy;
  entity: EntityKind;
  from: string | null;
  to: string | null;
  bucket: 'day' | 'week' | null;
  top: number;
}

interface Row {
  key: string;
  name: string;
  bucket: string | null;
  entities: number;
  mappings: number;
}

export interface Breakdown {
  tenant: string;
  by: BreakdownBy;
  entity: EntityKind;
  from: string | null;
  to: string | null;
  bucket: 'day' | 'week' | null;
  totals: { entities: number; mappings: number };
  /** The most frequent keys, by entities then mappings. */
  top: Array<{ key: string; name: string; entities: number; mappings: number }>;
  /** Everything below the top: how many keys, and their sums. */
  tail: { keys: number; entities: number; mappings: number };
  /** Per bucket (oldest first): the top keys' counts and the rest as other. */
  buckets: Array<{
    start: string;
    counts: Array<{ key: string; entities: number }>;
    other: number;
  }>;
  /** Incidents by the furthest kill-chain phase they reached within the window. */
  incidents_by_phase: Array<{ matrix: string; tactic: string; name: string; incidents: number }>;
}

/** Dashboards over a tenant's mappings: every count made inside Cypher, scoped by tenant. */
export class DashboardService {
  private readonly q = loadQueries(QUERIES);

  constructor(private readonly graph: Graph) {}

  private async tenants(tenant: string | null): Promise<string[]> {
    if (tenant !== null) return [tenant];
    const rows = await this.graph.read<{ tenant: string }>(this.q['reporting/dashboard-tenants']);
    return rows.map((r) => r.tenant);
  }

  /** Counts of what `viewer` may read (restricted entities of others left out). */
  async breakdown(viewer: Viewer, query: BreakdownQuery): Promise<Breakdown> {
    const tenants = await this.tenants(query.tenant);
    const params = { ...query, tenants, ...accessParams(viewer) };
    // The window's counts come from one unbucketed read: an entity seen in several buckets
    // counts once there.
    const [overall, rows, [totals], phases] = await Promise.all([
      this.graph.read<Row>(this.q['reporting/dashboard-breakdown'], { ...params, bucket: null }),
      query.bucket === null
        ? Promise.resolve([])
        : this.graph.read<Row>(this.q['reporting/dashboard-breakdown'], params),
      this.graph.read<{ entities: number; mappings: number }>(
        this.q['reporting/dashboard-totals'],
        params,
      ),
      this.graph.read<{
        matrix: string;
        tactic: string;
        name: string;
        order: number;
        incidents: number;
      }>(this.q['reporting/dashboard-phases'], params),
    ]);
    overall.sort(
      (a, b) => b.entities - a.entities || b.mappings - a.mappings || a.key.localeCompare(b.key),
    );
    const top = overall.slice(0, query.top).map(({ bucket: _b, ...t }) => t);
    const tail = overall.slice(query.top);
    const topKeys = new Set(top.map((t) => t.key));
    const buckets = new Map<string, Breakdown['buckets'][number]>();
    for (const r of rows) {
      if (r.bucket === null) continue;
      const b = buckets.get(r.bucket) ?? { start: r.bucket, counts: [], other: 0 };
      if (topKeys.has(r.key)) b.counts.push({ key: r.key, entities: r.entities });
      else b.other += r.entities;
      buckets.set(r.bucket, b);
    }
    return {
      tenant: query.tenant ?? '*',
      by: query.by,
      entity: query.entity,
      from: query.from,
      to: query.to,
      bucket: query.bucket,
      totals: { entities: totals?.entities ?? 0, mappings: totals?.mappings ?? 0 },
      top,
      tail: {
        keys: tail.length,
        entities: tail.reduce((s, t) => s + t.entities, 0),
        mappings: tail.reduce((s, t) => s + t.mappings, 0),
      },
      buckets: [...buckets.values()]
        .sort((a, b) => a.start.localeCompare(b.start))
        .map((b) => ({
          ...b,
          counts: b.counts.sort((x, y) => y.entities - x.entities || x.key.localeCompare(y.key)),
        })),
      incidents_by_phase: phases.map(({ order: _order, ...p }) => p),
    };
  }

  /** Navigator layer of the window: each sub-technique scored by the entities mapped to it. */
  async layer(
    viewer: Viewer,
    query: Omit<BreakdownQuery, 'by' | 'bucket' | 'top'>,
  ): Promise<Layer> {
    const tenants = await this.tenants(query.tenant);
    const [rows, attack] = await Promise.all([
      this.graph.read<Row>(this.q['reporting/dashboard-breakdown'], {
        ...query,
        ...accessParams(viewer),
        tenants,
        by: 'sub-technique',
        bucket: null,
      }),
      this.graph.read<{ domain: string; version: string | null }>(
        this.q['reporting/attack-versions'],
      ),
    ]);
    const max = Math.max(1, ...rows.map((r) => r.entities));
    const window = `${query.from ?? 'the beginning'} to ${query.to ?? 'now'}`;
    const tenant = query.tenant ?? 'all tenants';
    return buildLayer({
      name: `${tenant}: ${query.entity}s by technique`,
      description: `How many ${query.entity}s of ${tenant} were mapped to each technique, from ${window}.`,
      domain: 'enterprise-attack',
      attackVersion: attack.find((a) => a.domain === 'enterprise-attack')?.version ?? null,
      entries: rows.map((r) => ({
        technique: r.key,
        score: r.entities,
        comment: `${r.name}: ${r.entities} ${query.entity}${r.entities === 1 ? '' : 's'}, ${r.mappings} mapping${r.mappings === 1 ? '' : 's'}`,
      })),
      gradient: { colors: HEAT, min: 0, max },
      legend: [
        { label: `0 ${query.entity}s`, color: HEAT[0] as string },
        { label: `${max} ${query.entity}s`, color: HEAT[2] as string },
      ],
      metadata: [
        { name: 'tenant', value: tenant },
        { name: 'entity', value: query.entity },
        { name: 'window', value: window },
      ],
    });
  }
}
