import { EventEmitter, once } from 'node:events';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import later from '@breejs/later';
import Bree from 'bree';
import type {
  SyncJobCommand,
  SyncJobData,
  SyncJobMessage,
  SyncRequest,
} from '../../jobs/sync-mitre';
import { systemClock, type Clock } from '../shared/clock';
import type { Config, SyncSchedule } from '../shared/config';
import { loadQueries } from '../shared/cypher';
import type { Logger } from '../shared/logger';
import type { Graph } from '../shared/neo4j';
import { packageRoot } from '../shared/paths';
import type { SyncRunStore } from './run-store';
import type { SyncProgress, SyncRun, SyncTrigger } from './sync-service';

const JOB = 'sync-mitre';

/** A run as the scheduler sees it: live progress while its worker runs, the result after. */
export interface LiveRun {
  id: string;
  trigger: SyncTrigger;
  state: SyncRun['state'];
  started_at: string;
  progress: SyncProgress | null;
  result: SyncRun | null;
}

export interface SchedulerState {
  enabled: boolean;
  schedule: string;
  running: LiveRun | null;
  next_run_at: string | null;
  consecutive_failures: number;
  last_run: LiveRun | null;
}

/**
 * Exponential backoff, capped, with equal jitter (half the step fixed, half random, so retries
 * never bunch at zero); never shorter than what the server asked for.
 */
export function retryDelay(
  failures: number,
  baseMs: number,
  maxMs: number,
  retryAfterMs: number | null,
  random = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** When a schedule runs next after `now` (null when it is off). */
export function nextRun(schedule: SyncSchedule, now: number): Date | null {
  if (schedule.kind === 'interval') return new Date(now + schedule.ms);
  if (schedule.kind === 'off') return null;
  const fields = schedule.value.trim().split(/\s+/).length;
  // From the next whole second: never `now` itself (a run just ended there), never a fraction.
  const from = new Date(Math.floor(now / 1_000) * 1_000 + 1_000);
  const next = later.schedule(later.parse.cron(schedule.value, fields === 6)).next(1, from);
  return next instanceof Date ? next : null;
}

/**
 * Runs the sync job with Bree, each run in a worker thread (jobs/sync-mitre): at start-up and on
 * the configured interval or cron, timed by the scheduler's clock so that the next run follows
 * the last one's end (a failed run is retried sooner, with capped, jittered backoff). POST sync/
 * starts the same job with the caller's options. Emits `finished` with each run once it ended.
 */
export class SyncScheduler extends EventEmitter<{ finished: [LiveRun] }> {
  private readonly q = loadQueries(['sync/schedule'] as const);
  private readonly runs = new Map<string, LiveRun>();
  private bree: Bree | undefined;
  private current: LiveRun | null = null;
  private last: LiveRun | null = null;
  private failures = 0;
  private cancelTimer: (() => void) | undefined;
  private nextRunAt: Date | null = null;
  /** Runs whose record failed (Neo4j was down): written before the next run starts. */
  private unrecorded: SyncRun[] = [];
  private stopping = false;
  /** The request of a run started by trigger(), handed to its worker when it is ready. */
  private requested: SyncRequest | null = null;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly graph: Graph,
    private readonly store: SyncRunStore,
    /** Told when a run applied a release (the answer cache is cleared at once). */
    private readonly onApplied: () => void,
    private readonly clock: Clock = systemClock,
  ) {
    super();
  }

  get enabled(): boolean {
    return this.config.sync.schedule.kind !== 'off';
  }

  private describe(): string {
    const s = this.config.sync.schedule;
    return s.kind === 'off' ? 'off' : s.value;
  }

  private job(): Bree.JobOptions {
    const data: SyncJobData = { config: this.config, uri: this.graph.uri };
    // Bree runs the worker when asked; when is the scheduler's to decide (see plan()).
    return {
      name: JOB,
      path: path.join(packageRoot(), 'dist', 'jobs', `${JOB}.js`),
      timeout: false,
      worker: { workerData: data },
    };
  }

  async start(): Promise<void> {
    const log = this.log.child({ component: 'bree' });
    this.bree = new Bree({
      root: false,
      doRootCheck: false,
      jobs: [this.job()],
      logger: {
        info: (msg: unknown) => log.debug(String(msg)),
        warn: (msg: unknown) => log.warn(String(msg)),
        error: (msg: unknown) => log.error(String(msg)),
      },
      workerMessageHandler: ({ message }) => this.onMessage(message),
      errorHandler: (err) => this.finish(null, (err as Error).message),
    });
    this.bree.on('worker deleted', () => {
      // A worker that exited without a run message failed before it could record one.
      if (this.current && !this.current.result) this.finish(null, 'the sync worker stopped early');
    });
    if (this.enabled) {
      this.plan(
        this.config.sync.onStart
          ? new Date(this.clock.now())
          : nextRun(this.config.sync.schedule, this.clock.now()),
      );
    }
    this.log.info({ schedule: this.describe() }, 'sync scheduler started');
  }

  /**
   * Sets the one timer for the next scheduled run (replacing any other) and records its time in
   * the graph; `persist` false after a quiet poll: the recorded time, rolled forward by the
   * interval when status reads it, is still right, and a quiet poll writes nothing.
   */
  private plan(at: Date | null, persist = true): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (at && !this.stopping) {
      this.cancelTimer = this.clock.setTimer(() => {
        this.cancelTimer = undefined;
        this.trigger({ trigger: 'schedule' }).catch((err: unknown) =>
          this.log.error({ err: (err as Error).message }, 'the scheduled sync could not start'),
        );
      }, at.getTime() - this.clock.now());
    }
    this.nextRunAt = at;
    if (!persist) return;
    const s = this.config.sync.schedule;
    this.graph
      .write(this.q['sync/schedule'], {
        name: JOB,
        nextRunAt: at?.toISOString() ?? null,
        schedule: this.describe(),
        intervalMs: s.kind === 'interval' ? s.ms : null,
      })
      .catch((err: unknown) =>
        this.log.warn({ err: (err as Error).message }, 'could not record the next sync time'),
      );
  }

  private track(id: string, trigger: SyncTrigger): LiveRun {
    const run: LiveRun = {
      id,
      trigger,
      state: 'running',
      started_at: new Date(this.clock.now()).toISOString(),
      progress: null,
      result: null,
    };
    this.runs.set(id, run);
    // Keep the last few hundred in memory; older ones are read from the graph.
    if (this.runs.size > 200) this.runs.delete(this.runs.keys().next().value as string);
    return run;
  }

  private onMessage(message: unknown): void {
    const m = message as SyncJobMessage;
    if (!this.current || typeof m !== 'object' || m === null) return;
    if (m.type === 'ready') {
      const command: SyncJobCommand = { type: 'request', request: this.requested };
      this.requested = null;
      this.bree?.workers.get(JOB)?.postMessage(command);
    } else if (m.type === 'progress') {
      // A scheduled worker names its own run id: adopt it so GET sync/{id} finds the run.
      if (this.current.id !== m.progress.runId) {
        this.runs.delete(this.current.id);
        this.current.id = m.progress.runId;
        this.runs.set(this.current.id, this.current);
      }
      // One line per phase (fetching, parsing, writing…), not per batch: the first sync takes a
      // while and should say what it is doing.
      if (this.current.progress?.phase !== m.progress.phase) {
        this.log.info(
          {
            runId: m.progress.runId,
            domain: m.progress.domain,
            total: m.progress.total || undefined,
          },
          `sync: ${m.progress.phase}`,
        );
      }
      this.current.progress = m.progress;
    } else if (m.type === 'run') {
      this.finish(m.run, null);
    }
  }

  private finish(result: SyncRun | null, crash: string | null): void {
    const run = this.current;
    if (!run) return;
    this.current = null;
    run.result = result;
    run.state = result?.state ?? 'failed';
    if (result?.recorded === false) this.unrecorded.push(result);
    this.last = run;
    if (crash) this.log.error({ runId: run.id, err: crash }, 'sync worker failed');
    if (result?.domains.some((d) => d.outcome === 'applied' && d.changed)) this.onApplied();
    if (run.state === 'failed') {
      this.failures++;
      const delay = retryDelay(
        this.failures,
        this.config.sync.retryBaseMs,
        this.config.sync.retryMaxMs,
        result?.retry_after_ms ?? null,
      );
      if (this.enabled && !this.stopping) {
        this.plan(new Date(this.clock.now() + delay));
        this.log.warn(
          { runId: run.id, failures: this.failures, retryInMs: Math.round(delay) },
          'sync will retry',
        );
      }
    } else {
      this.failures = 0;
      if (this.enabled) {
        this.plan(
          nextRun(this.config.sync.schedule, this.clock.now()),
          result?.recorded !== undefined,
        );
      }
    }
    this.emit('finished', run);
  }

  /**
   * Starts a run now, unless one is running: then that run is answered. The request reaches the
   * worker when it says it is ready.
   */
  async trigger(request: {
    trigger: SyncTrigger;
    force?: boolean;
    source?: 'json' | 'taxii';
  }): Promise<{ run: LiveRun; started: boolean }> {
    if (!this.bree) throw new Error('the sync scheduler is not started');
    if (this.current) return { run: this.current, started: false };
    await this.flushUnrecorded();
    // The last run's worker may still be exiting after its result: Bree runs one at a time.
    if (this.bree.workers.has(JOB)) await once(this.bree, 'worker deleted');
    // Another trigger may have started a run meanwhile.
    if (this.current) return { run: this.current, started: false };
    const run = this.track(randomUUID(), request.trigger);
    this.current = run;
    this.requested = { ...request, runId: run.id };
    try {
      await this.bree.run(JOB);
    } catch (err) {
      // Ended as a failed run: the schedule goes on with a retry.
      this.finish(null, (err as Error).message);
      throw err;
    }
    return { run, started: true };
  }

  private async flushUnrecorded(): Promise<void> {
    const pending = this.unrecorded;
    this.unrecorded = [];
    for (const run of pending) {
      if (!(await this.store.record(run, [], this.config.sync.domains))) this.unrecorded.push(run);
    }
  }

  get(id: string): LiveRun | undefined {
    return this.runs.get(id);
  }

  state(): SchedulerState {
    return {
      enabled: this.enabled,
      schedule: this.describe(),
      running: this.current,
      next_run_at: this.nextRunAt?.toISOString() ?? null,
      consecutive_failures: this.failures,
      last_run: this.last,
    };
  }

  /** Cancels a running worker (it stops before its next step) and the timers. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.cancelTimer?.();
    if (!this.bree) return;
    const bree = this.bree;
    await Promise.race([
      bree.stop(),
      new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
    // Past the grace period the worker is terminated: its open transaction rolls back.
    for (const w of bree.workers.values()) await w.terminate();
  }
}
