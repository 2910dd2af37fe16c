import path from 'node:path';
import { AnswerCache } from '../attack/answer-cache';
import type { Authorizer } from '../auth/authorization';
import { StatusService } from '../attack/status-service';
import { EnrichmentService } from '../enrichment/enrichment-service';
import { MappingService } from '../mappings/mapping-service';
import { NextSteps } from '../reporting/next-steps';
import { DashboardService } from '../reporting/dashboard-service';
import { ReportingService } from '../reporting/reporting-service';
import { systemClock, type Clock } from '../shared/clock';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import type { Graph } from '../shared/neo4j';
import { ReleaseService } from '../sync/release-service';
import { SyncRunStore } from '../sync/run-store';
import { SyncScheduler } from '../sync/scheduler';
import { SyncService } from '../sync/sync-service';

/**
 * The services the API runs on one graph, wired once for the server and the test app: imports go
 * through the sync pipeline (which remaps mappings), the scheduler (only where syncing is on)
 * clears the answer cache.
 */
export async function composeServices(
  graph: Graph,
  config: Config,
  log: Logger,
  /** Decides entity access for the mappings (Casbin, as every permission). */
  authorizer: Authorizer,
  /** What times the sync schedule (tests drive a manual clock). */
  clock: Clock = systemClock,
) {
  const status = new StatusService(graph);
  const sync = SyncService.forGraph(graph, config, log);
  const cache = new AnswerCache(graph, log, config.cache.bytes, config.cache.pollMs);
  await cache.start();
  const runs = new SyncRunStore(graph, log);
  const enrichment = new EnrichmentService(graph, log, path.join(config.dataDir, 'enrichment'));
  const onApplied = () => {
    cache.invalidate();
    enrichment.invalidate();
  };
  const scheduler =
    config.sync.schedule.kind === 'off'
      ? undefined
      : new SyncScheduler(config, log, graph, runs, onApplied, clock);
  await scheduler?.start();
  return {
    status,
    // Tenant data is read where it was written: another replica's write is seen at once.
    mappings: new MappingService(graph.latest, authorizer),
    importer: sync.importer,
    cache,
    runs,
    sync,
    releases: new ReleaseService(graph),
    enrichment,
    reporting: new ReportingService(graph.latest, new NextSteps(graph, log)),
    dashboard: new DashboardService(graph.latest),
    scheduler,
    /** Cancels a running sync (up to `graceMs`) and stops the cache's polling. */
    async stop(graceMs: number): Promise<void> {
      await scheduler?.stop(graceMs);
      cache.stop();
    },
  };
}
