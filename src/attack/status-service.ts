import { loadQueries } from '../shared/cypher';
import type { Graph } from '../shared/neo4j';
import { SYNC_LEASE } from '../sync/lease';
import type { ChangeReport } from './import-service';

const QUERIES = [
  'attack/status-domains',
  'attack/status-counts',
  'attack/status-relationships',
  'attack/status-tactics',
  'attack/status-indexes',
  'attack/status-constraints',
  'attack/status-sync',
] as const;

export interface DomainStatus {
  domain: string;
  version: string | null;
  attackSpecVersion: string | null;
  source: string | null;
  sha256: string | null;
  lastImportAt: string | null;
  lastChangeAt: string | null;
  syncSource: string | null;
  lastAttemptAt: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** The current release and its changelog totals (MITRE's categories). */
  releaseId: string | null;
  lastChangelog?: ChangeReport['changelog']['totals'];
}

export interface SyncStatus {
  running: boolean;
  holder: string | null;
  leaseExpiresAt: string | null;
  nextRunAt: string | null;
  schedule: string | null;
}

export interface TypeCounts {
  type: string;
  total: number;
  active: number;
  revoked: number;
  deprecated: number;
}

export interface Status {
  database: { reachable: true; uri: string; name: string };
  domains: DomainStatus[];
  sync: SyncStatus;
  objects: TypeCounts[];
  relationships: Record<string, number>;
  derivedEdges: Record<string, number>;
  detailed?: {
    tactics: Array<{
      domain: string;
      position: number;
      tacticId: string;
      tactic: string;
      shortname: string;
      techniques: number;
      subtechniques: number;
    }>;
    indexes: Array<Record<string, unknown>>;
    constraints: Array<Record<string, unknown>>;
    lastReports: Record<string, ChangeReport>;
  };
}

/**
 * What a caller without status details sees: versions and counts. Where the data comes from
 * (database URI, file paths and URLs of bundles), sync errors and the lease holder's host stay
 * with superusers.
 */
export type PublicStatus = Pick<Status, 'objects' | 'relationships' | 'derivedEdges'> & {
  database: { reachable: true };
  domains: Array<
    Pick<
      DomainStatus,
      | 'domain'
      | 'version'
      | 'attackSpecVersion'
      | 'releaseId'
      | 'lastImportAt'
      | 'lastChangeAt'
      | 'lastChangelog'
    >
  >;
  sync: Pick<SyncStatus, 'running' | 'nextRunAt' | 'schedule'>;
};

export function publicStatus(s: Status): PublicStatus {
  return {
    database: { reachable: s.database.reachable },
    domains: s.domains.map((d) => ({
      domain: d.domain,
      version: d.version,
      attackSpecVersion: d.attackSpecVersion,
      releaseId: d.releaseId,
      lastImportAt: d.lastImportAt,
      lastChangeAt: d.lastChangeAt,
      ...(d.lastChangelog ? { lastChangelog: d.lastChangelog } : {}),
    })),
    sync: { running: s.sync.running, nextRunAt: s.sync.nextRunAt, schedule: s.sync.schedule },
    objects: s.objects,
    relationships: s.relationships,
    derivedEdges: s.derivedEdges,
  };
}

/** What `mitre-status` prints and GET /status/ serves: one read of the graph's state. */
export class StatusService {
  private readonly q = loadQueries(QUERIES);

  constructor(private readonly graph: Graph) {}

  async status(detailed = false): Promise<Status> {
    const [domains, objects, rels, sync] = await Promise.all([
      this.graph.read<
        Omit<DomainStatus, 'lastChangelog'> & {
          lastReport: string | null;
          releaseReport: string | null;
        }
      >(this.q['attack/status-domains']),
      this.graph.read<TypeCounts>(this.q['attack/status-counts']),
      this.graph.read<{ kind: string; type: string; count: number }>(
        this.q['attack/status-relationships'],
      ),
      this.graph.read<SyncStatus>(this.q['attack/status-sync'], {
        lease: SYNC_LEASE,
        job: 'sync-mitre',
      }),
    ]);
    const status: Status = {
      database: { reachable: true, uri: this.graph.uri, name: this.graph.database },
      domains: domains.map(({ lastReport: _lastReport, releaseReport, ...d }) => {
        const totals = releaseReport
          ? (JSON.parse(releaseReport) as Partial<ChangeReport>).changelog?.totals
          : undefined;
        return totals ? { ...d, lastChangelog: totals } : d;
      }),
      sync: sync[0] ?? {
        running: false,
        holder: null,
        leaseExpiresAt: null,
        nextRunAt: null,
        schedule: null,
      },
      objects,
      relationships: Object.fromEntries(
        rels.filter((r) => r.kind === 'stix').map((r) => [r.type, r.count]),
      ),
      derivedEdges: Object.fromEntries(
        rels.filter((r) => r.kind === 'derived').map((r) => [r.type, r.count]),
      ),
    };
    if (!detailed) return status;
    const [tactics, indexes, constraints] = await Promise.all([
      this.graph.read<NonNullable<Status['detailed']>['tactics'][number]>(
        this.q['attack/status-tactics'],
      ),
      this.graph.read(this.q['attack/status-indexes']),
      this.graph.read(this.q['attack/status-constraints']),
    ]);
    const lastReports: Record<string, ChangeReport> = {};
    for (const d of domains)
      if (d.lastReport) lastReports[d.domain] = JSON.parse(d.lastReport) as ChangeReport;
    status.detailed = { tactics, indexes, constraints, lastReports };
    return status;
  }
}
