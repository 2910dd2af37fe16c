import type { ChangeReport } from '../attack/import-service';
import { loadQueries } from '../shared/cypher';
import type { Logger } from '../shared/logger';
import type { Graph } from '../shared/neo4j';
import type { SourceState } from './sources';
import type { DomainOutcome, SyncRun } from './sync-service';

const QUERIES = ['sync/record-run', 'sync/runs'] as const;
const KEEP_RUNS = 500;

/** Stored runs keep their nested parts as JSON strings (Neo4j properties are flat). */
type StoredRun = Omit<SyncRun, 'domains' | 'reports'> & { domains: string; reports: string };

/** Sync run records, each domain's sync status and the sources' validators, in the graph. */
export class SyncRunStore {
  private readonly q = loadQueries(QUERIES);

  constructor(
    private readonly graph: Graph,
    private readonly log: Logger,
  ) {}

  /**
   * Writes the run and what it learnt. A database that is down only costs the record: the run is
   * marked unrecorded and its holder (the scheduler) writes it once the database is back.
   */
  async record(run: SyncRun, saves: SourceState[], configured: string[]): Promise<boolean> {
    const at = run.finished_at ?? run.started_at;
    const domains = run.domains
      .filter((d) => d.domain !== null)
      .map((d) => ({
        domain: d.domain,
        source: run.source,
        at,
        error: d.outcome === 'failed' ? (d.error ?? 'failed') : null,
      }));
    // A run that failed before it knew its domains still marks the configured ones as attempted.
    if (
      run.state === 'failed' &&
      domains.length === 0 &&
      !['bundles', 'upload'].includes(run.source)
    ) {
      for (const domain of configured)
        domains.push({ domain, source: run.source, at, error: run.error });
    }
    try {
      run.recorded = true;
      await this.graph.write(this.q['sync/record-run'], {
        run: toStored(run),
        domains,
        sources: saves,
        keepRuns: KEEP_RUNS,
      });
      return true;
    } catch (err) {
      run.recorded = false;
      this.log.error(
        { runId: run.id, err: (err as Error).message },
        'could not record the sync run',
      );
      return false;
    }
  }

  async runs(page: { limit: number; offset: number }, id: string | null = null) {
    const [row] = await this.graph.read<{ count: number; runs: StoredRun[] }>(this.q['sync/runs'], {
      id,
      ...page,
    });
    return { count: row?.count ?? 0, runs: (row?.runs ?? []).map(fromStored) };
  }
}

function toStored(run: SyncRun): StoredRun {
  return { ...run, domains: JSON.stringify(run.domains), reports: JSON.stringify(run.reports) };
}

function fromStored(s: StoredRun): SyncRun {
  return {
    ...s,
    domains: JSON.parse(s.domains ?? '[]') as DomainOutcome[],
    reports: JSON.parse(s.reports ?? '[]') as ChangeReport[],
  };
}
