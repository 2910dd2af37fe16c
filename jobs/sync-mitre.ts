/**
 * The Bree job: one sync in a worker thread with its own Neo4j driver. It reports progress and
 * its run through the parent port and, told to cancel (service shutdown), stops before the next
 * step; a release already being written commits or rolls back whole.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../src/shared/config';
import { createLogger } from '../src/shared/logger';
import { openGraph } from '../src/shared/neo4j';
import { SyncService, type SyncOptions } from '../src/sync/sync-service';

export interface SyncJobData {
  /** The service's own configuration, validated once in the parent. */
  config: Config;
  /** The Neo4j the service uses (the local launcher's port is only known at run time). */
  uri: string;
}

/** What one run was asked to do (POST sync/); none for a run on the schedule. */
export type SyncRequest = Pick<SyncOptions, 'runId' | 'force' | 'source'> & {
  trigger: SyncOptions['trigger'];
};

/** Worker → scheduler. */
export type SyncJobMessage =
  | { type: 'ready' }
  | { type: 'progress'; progress: Parameters<NonNullable<SyncOptions['onProgress']>>[0] }
  | { type: 'run'; run: Awaited<ReturnType<SyncService['run']>> };

/** Scheduler → worker: this run's request (answering 'ready'), or cancel. */
export type SyncJobCommand = { type: 'request'; request: SyncRequest | null } | 'cancel';

async function main(): Promise<void> {
  const data = workerData as SyncJobData;
  const config = data.config;
  const log = createLogger(config.logLevel ?? 'info', 'ttpgraph-sync');
  const cancel = new AbortController();
  // Each run's options come from the scheduler when the worker is ready, not from workerData
  // (which is the job's, shared by every run).
  const requested = new Promise<SyncRequest | null>((resolve) => {
    parentPort?.on('message', (m: SyncJobCommand) => {
      if (m === 'cancel') {
        cancel.abort(new Error('the service is shutting down'));
        resolve(null);
      } else if (m.type === 'request') resolve(m.request);
    });
  });
  const post = (m: SyncJobMessage) => parentPort?.postMessage(m);
  post({ type: 'ready' });
  const request = await requested;
  const graph = await openGraph({ ...config.neo4j, uri: data.uri });
  try {
    const run = await SyncService.forGraph(graph, config, log).run({
      ...(request ?? { trigger: 'schedule' }),
      signal: cancel.signal,
      onProgress: (progress) => post({ type: 'progress', progress }),
    });
    post({ type: 'run', run });
  } finally {
    await graph.close();
  }
  parentPort?.postMessage(cancel.signal.aborted ? 'cancelled' : 'done');
}

main().catch((err: unknown) => {
  // Bree logs the exit code; the message says why.
  process.stderr.write(`sync-mitre failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
