import { randomUUID } from 'node:crypto';
import type { FetchedBundle } from '../attack/bundle-source';
import { ImportService, type ChangeReport } from '../attack/import-service';
import { NextSteps } from '../reporting/next-steps';
import { MappingService } from '../mappings/mapping-service';
import type { Config } from '../shared/config';
import { loadQueries } from '../shared/cypher';
import { AppError, ConflictError, OlderReleaseError, SourceError } from '../shared/errors';
import type { Logger } from '../shared/logger';
import type { Graph } from '../shared/neo4j';
import { Lease } from './lease';
import { SyncRunStore } from './run-store';
import {
  detectFromBundles,
  detectFromIndex,
  detectFromTaxii,
  type Detection,
  type SourceContext,
  type SourceState,
} from './sources';

const QUERIES = ['sync/read-state'] as const;

export type SyncTrigger = 'schedule' | 'api' | 'cli';

export interface SyncOptions {
  trigger: SyncTrigger;
  runId?: string;
  source?: 'json' | 'taxii';
  /** Bundles to apply instead of the configured source: URLs, files or directories. */
  urls?: string[];
  /** With source taxii: the API root or discovery URL to read instead of TTPGRAPH_TAXII_URL. */
  taxiiUrl?: string;
  /** An operator's explicit downgrade to this version (see ImportOptions.downgradeTo). */
  downgradeTo?: string;
  /** A bundle already in hand (an upload to POST imports/), applied under the same lease. */
  bundle?: FetchedBundle;
  domain?: string;
  force?: boolean;
  /** False: fetch even when the source's validators say nothing changed (`import-mitre --url`). */
  conditional?: boolean;
  relationships?: boolean;
  strict?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: SyncProgress) => void;
  /** Told of each failure as it was thrown (the CLI picks its exit code from it). */
  onFailure?: (err: unknown) => void;
}

export interface SyncProgress {
  runId: string;
  phase: string;
  done: number;
  total: number;
  domain?: string;
}

export interface DomainOutcome {
  domain: string | null;
  source: string;
  /** refused: the source offered an older release than the domain holds (kept, not applied). */
  outcome: 'applied' | 'unchanged' | 'refused' | 'failed';
  version?: string;
  releaseId?: string | null;
  changed?: boolean;
  totals?: ChangeReport['changelog']['totals'];
  error?: string;
}

export interface SyncRun {
  id: string;
  trigger: SyncTrigger;
  source: string;
  state: 'running' | 'succeeded' | 'unchanged' | 'failed' | 'skipped';
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  requests: number;
  error: string | null;
  /** For a failure: how long the server asked us to wait (429/503 Retry-After), if it did. */
  retry_after_ms: number | null;
  /**
   * False when the record could not be written (the database was down); written later. Absent
   * for a quiet poll (nothing new, between two heartbeats), which writes nothing.
   */
  recorded?: boolean;
  domains: DomainOutcome[];
  reports: ChangeReport[];
}

/** What the graph says of earlier runs: when one was last recorded, which domains failed last. */
interface Recorded {
  lastRecordedAt: string | null;
  failing: string[];
}

/**
 * The one sync pipeline (Bree worker, POST sync/, `ttpgraph sync` and `import-mitre`): ask the
 * source what changed (cheaply), take the lease only when something did, apply each changed
 * release atomically through ImportService, and record the run, per-domain status and validators.
 */
export class SyncService {
  private readonly q = loadQueries(QUERIES);
  private readonly lease: Lease;
  private readonly store: SyncRunStore;

  constructor(
    private readonly graph: Graph,
    /** The import pipeline it applies releases with (the API's uploads and tests use it too). */
    readonly importer: ImportService,
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.lease = new Lease(graph, log, config.sync.leaseMs);
    this.store = new SyncRunStore(graph, log);
  }

  /**
   * The pipeline on a graph: imports through ImportService, then the post-release step: the
   * next-step model rebuilt, the mappings remapped (whose success clears the release's mark).
   */
  static forGraph(graph: Graph, config: Config, log: Logger): SyncService {
    const mappings = new MappingService(graph);
    const nextSteps = new NextSteps(graph, log);
    const importer = new ImportService(
      graph,
      log,
      config.importBatchSize,
      async () => {
        // A failure here is repaired by the model's next use (it checks the data version).
        await nextSteps
          .rebuild()
          .catch((err: unknown) =>
            log.warn({ err: (err as Error).message }, 'the next-step model was not rebuilt'),
          );
        return mappings.applyRelease();
      },
      config.sync.leaseMs,
    );
    return new SyncService(graph, importer, config, log);
  }

  async run(opts: SyncOptions): Promise<SyncRun> {
    const source = resolveSource(opts, this.config);
    const run: SyncRun = {
      id: opts.runId ?? randomUUID(),
      trigger: opts.trigger,
      source: source.label,
      state: 'running',
      started_at: new Date().toISOString(),
      finished_at: null,
      duration_ms: null,
      requests: 0,
      error: null,
      retry_after_ms: null,
      domains: [],
      reports: [],
    };
    const progress: Progress = (phase, done = 0, total = 0, domain) =>
      opts.onProgress?.({ runId: run.id, phase, done, total, domain });
    const saves: SourceState[] = [];
    let recorded: Recorded = { lastRecordedAt: null, failing: [] };
    try {
      progress('checking the source');
      const { detection, remapPending, ...known } = await this.detect(source, opts, run);
      recorded = known;
      if (remapPending) await this.importer.finishRelease();
      for (const u of detection.unchanged) {
        run.domains.push({ domain: u.domain ?? null, source: u.describe, outcome: 'unchanged' });
      }
      if (detection.pending.length === 0) {
        run.state = 'unchanged';
        // The source answered anew (new validators) with nothing new: its validators are kept.
        saves.push(...detection.savesWhenAllApplied);
      } else {
        await this.apply(detection, opts, run, saves, progress);
      }
    } catch (err) {
      opts.onFailure?.(err);
      run.state = 'failed';
      run.error = (err as Error).message;
      run.retry_after_ms = retryAfterOf(err);
      this.log.error({ runId: run.id, err: run.error }, 'sync failed; the graph keeps what it had');
      if (err instanceof SourceError && source.reads === 'index') {
        this.log.warn(
          { indexUrl: this.config.sync.indexUrl },
          "MITRE's index.json could not be read: without internet access, set TTPGRAPH_IMPORT_URLS to bundle files or a directory of them (e.g. ../shared/attack-data/enterprise-attack-18.1.json.gz)",
        );
      }
    }
    run.finished_at = new Date().toISOString();
    run.duration_ms = Date.parse(run.finished_at) - Date.parse(run.started_at);
    if (!this.quiet(run, saves, recorded)) {
      await this.store.record(run, saves, this.config.sync.domains);
    }
    progress('finished', 1, 1);
    return run;
  }

  /**
   * A poll that found nothing new and learnt nothing writes nothing, except one per heartbeat so
   * that status's last attempt and the runs list show the polling goes on, and the first one after
   * a domain's recorded failure (it clears the error).
   */
  private quiet(run: SyncRun, saves: SourceState[], recorded: Recorded): boolean {
    const { lastRecordedAt, failing } = recorded;
    if (run.state !== 'unchanged' || saves.length > 0 || lastRecordedAt === null) return false;
    if (run.domains.some((d) => d.domain !== null && failing.includes(d.domain))) return false;
    return Date.parse(run.started_at) - Date.parse(lastRecordedAt) < this.config.sync.heartbeatMs;
  }

  /**
   * A run for a caller that waits on it (the CLI, POST imports/): a failed or skipped run throws
   * the error that stopped it, so the caller answers with that error's exit code or status.
   */
  async runOrThrow(opts: SyncOptions): Promise<SyncRun> {
    let failure: unknown;
    const run = await this.run({
      ...opts,
      onFailure: (err) => {
        failure ??= err;
        opts.onFailure?.(err);
      },
    });
    if (run.state === 'failed' || run.state === 'skipped') {
      throw failure ?? new Error(run.error ?? `sync ${run.state}`);
    }
    // A caller that named the bundle hears that it was older than what the graph holds.
    const refused = run.domains.find((d) => d.outcome === 'refused');
    if (refused) throw new OlderReleaseError(refused.error ?? 'an older release was refused');
    return run;
  }

  private async detect(
    source: RunSource,
    opts: SyncOptions,
    run: SyncRun,
  ): Promise<{ detection: Detection; remapPending: boolean } & Recorded> {
    const sync = this.config.sync;
    const bundle = opts.bundle;
    if (source.reads === 'upload' && bundle) {
      return {
        detection: {
          pending: [{ describe: bundle.source, fetch: () => Promise.resolve(bundle), saves: [] }],
          unchanged: [],
          savesWhenAllApplied: [],
        },
        lastRecordedAt: null,
        failing: [],
        remapPending: false,
      };
    }
    const wanted = opts.domain ? [opts.domain] : sync.domains;
    const [state] = await this.graph.read<{
      sources: SourceState[];
      domains: Array<{ name: string; version: string | null; failing: boolean }>;
      lastRecordedAt: string | null;
      remapPending: boolean;
    }>(this.q['sync/read-state']);
    const recorded: Recorded = {
      lastRecordedAt: state?.lastRecordedAt ?? null,
      failing: (state?.domains ?? []).filter((d) => d.failing).map((d) => d.name),
    };
    const ctx: SourceContext = {
      state: new Map((state?.sources ?? []).map((s) => [s.key, s])),
      domains: new Map((state?.domains ?? []).map((d) => [d.name, d.version])),
      refetch: opts.force === true || opts.conditional === false,
      timeoutMs: this.config.fetchTimeoutMs,
      maxBytes: this.config.maxBundleBytes,
      signal: opts.signal,
      onRequest: () => run.requests++,
    };
    const detection =
      source.reads === 'taxii'
        ? await detectFromTaxii(
            opts.taxiiUrl ? { ...sync.taxii, url: opts.taxiiUrl } : sync.taxii,
            wanted,
            ctx,
          )
        : source.reads === 'bundles'
          ? await detectFromBundles(source.urls, ctx)
          : await detectFromIndex(sync.indexUrl, wanted, ctx);
    return { detection, remapPending: state?.remapPending === true, ...recorded };
  }

  private async apply(
    detection: Detection,
    opts: SyncOptions,
    run: SyncRun,
    saves: SourceState[],
    progress: Progress,
  ): Promise<void> {
    const owner = Lease.owner(run.id);
    const lease = await this.lease.acquire(owner);
    if (!lease.acquired) {
      run.state = 'skipped';
      run.error = `another sync holds the lease (${lease.owner}, until ${lease.expiresAt}); skipped`;
      opts.onFailure?.(new ConflictError(run.error));
      this.log.warn({ runId: run.id, holder: lease.owner }, 'sync skipped: lease held elsewhere');
      return;
    }
    const results: Applied[] = [];
    try {
      for (const p of detection.pending) {
        const signal = AbortSignal.any([lease.held.lost, ...(opts.signal ? [opts.signal] : [])]);
        const domain = p.domain ?? (detection.pending.length === 1 ? opts.domain : undefined);
        results.push(
          await this.applyOne(p, { runId: run.id, opts, owner, domain, signal, progress }),
        );
      }
    } finally {
      await lease.held.release();
    }
    const failed = results.filter((r) => r.outcome.outcome === 'failed');
    for (const r of results) {
      run.domains.push(r.outcome);
      if (r.report) run.reports.push(r.report);
      if (r.outcome.outcome !== 'failed') saves.push(...r.saves);
      else {
        opts.onFailure?.(r.failure);
        run.retry_after_ms ??= retryAfterOf(r.failure);
      }
    }
    if (failed.length === 0) saves.push(...detection.savesWhenAllApplied);
    // The source was checked before the lease was taken: another replica may have applied these
    // very releases meanwhile. Fetched again and found held, they changed nothing.
    const held = results.every((r) => r.report?.sameBundle === true);
    run.state = failed.length > 0 ? 'failed' : held ? 'unchanged' : 'succeeded';
    if (failed.length > 0) {
      run.error = failed.map(({ outcome: d }) => `${d.domain ?? d.source}: ${d.error}`).join('; ');
    }
  }

  /** One pending release: fetched and imported under the held lease, or why not. */
  private async applyOne(
    p: Pending,
    ctx: {
      runId: string;
      opts: SyncOptions;
      owner: string;
      domain: string | undefined;
      signal: AbortSignal;
      progress: Progress;
    },
  ): Promise<Applied> {
    const { opts, signal, progress } = ctx;
    let domain = p.domain;
    try {
      signal.throwIfAborted();
      progress('downloading', 0, 0, p.domain);
      const fetched = await p.fetch((x) => progress(x.phase, x.done, x.total, p.domain));
      signal.throwIfAborted();
      const report = await this.importer.importBytes(fetched, {
        domain: ctx.domain,
        force: opts.force,
        relationships: opts.relationships,
        strict: opts.strict,
        maxBytes: this.config.maxBundleBytes,
        downgradeTo: opts.downgradeTo,
        holder: ctx.owner,
        onProgress: (x) => progress(x.phase, x.done, x.total, p.domain),
        onRelease: (r) => (domain = r.domain),
      });
      const outcome: DomainOutcome = {
        domain: report.domain,
        source: p.describe,
        outcome: 'applied',
        version: report.version,
        releaseId: report.releaseId,
        changed: report.changed,
        totals: report.changelog.totals,
      };
      return { outcome, report, saves: p.saves };
    } catch (err) {
      const message = (err as Error).message;
      const outcome = { domain: domain ?? null, source: p.describe, error: message };
      if (err instanceof OlderReleaseError) {
        // Not a failure (no backoff): the source went back, the graph does not follow.
        this.log.warn({ runId: ctx.runId, source: p.describe }, message);
        return { outcome: { ...outcome, outcome: 'refused' }, saves: p.saves };
      }
      this.log.error(
        { runId: ctx.runId, source: p.describe, err: message },
        'release not applied; the previous one stays',
      );
      return { outcome: { ...outcome, outcome: 'failed' }, saves: [], failure: err };
    }
  }
}

type Progress = (phase: string, done?: number, total?: number, domain?: string) => void;
type Pending = Detection['pending'][number];

/** What one pending release came to: its outcome, its report when imported, what to save. */
interface Applied {
  outcome: DomainOutcome;
  report?: ChangeReport;
  /** The source's validators to keep (not for a failed release: it is fetched again). */
  saves: SourceState[];
  failure?: unknown;
}

/**
 * Where a run reads ATT&CK from, decided once: an upload, bundle URLs (given, or configured in
 * TTPGRAPH_IMPORT_URLS), TAXII, or MITRE's index. `label` is what the run records.
 */
interface RunSource {
  label: string;
  reads: 'upload' | 'bundles' | 'taxii' | 'index';
  urls: string[];
}

function resolveSource(opts: SyncOptions, config: Config): RunSource {
  if (opts.bundle) return { label: 'upload', reads: 'upload', urls: [] };
  if (opts.urls?.length) return { label: 'bundles', reads: 'bundles', urls: opts.urls };
  const label = opts.source ?? config.sync.source;
  if (label === 'taxii') return { label, reads: 'taxii', urls: [] };
  const urls = config.importUrls;
  return { label, reads: urls.length > 0 ? 'bundles' : 'index', urls };
}

function retryAfterOf(err: unknown): number | null {
  if (!(err instanceof AppError)) return null;
  const d = err.details as { retryAfterMs?: number | null } | undefined;
  return d?.retryAfterMs ?? null;
}
