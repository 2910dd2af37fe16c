import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Status } from '../attack/status-service';

/**
 * Prometheus metrics of one app: request latency by route and status, Neo4j query durations,
 * and the ATT&CK version and object counts (read from the graph when scraped).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly http = new Histogram({
    name: 'ttpgraph_http_request_duration_seconds',
    help: 'HTTP request latency by route template, method and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  /** Label sets are few (route templates): their series are looked up once, not hashed per request. */
  private readonly children = new Map<string, { observe(seconds: number): void }>();
  private readonly queries = new Histogram({
    name: 'ttpgraph_neo4j_query_duration_seconds',
    help: 'Neo4j query duration by query name and access mode',
    labelNames: ['query', 'mode'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
    registers: [this.registry],
  });
  private readonly queryErrors = new Counter({
    name: 'ttpgraph_neo4j_query_errors_total',
    help: 'Neo4j queries that failed, by query name',
    labelNames: ['query'],
    registers: [this.registry],
  });

  constructor(status: () => Promise<Status>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ttpgraph_' });
    // Both gauges read one status snapshot per scrape.
    let cached: { at: number; value: Promise<Status | null> } | undefined;
    const snapshot = () => {
      if (!cached || Date.now() - cached.at > 1000) {
        cached = { at: Date.now(), value: status().catch(() => null) };
      }
      return cached.value;
    };
    new Gauge({
      name: 'ttpgraph_attack_objects',
      help: 'ATT&CK objects in the graph by STIX type and state',
      labelNames: ['type', 'state'],
      registers: [this.registry],
      async collect() {
        const s = await snapshot();
        this.reset();
        for (const o of s?.objects ?? []) {
          for (const state of ['active', 'revoked', 'deprecated'] as const) {
            this.set({ type: o.type, state }, o[state]);
          }
        }
      },
    });
    new Gauge({
      name: 'ttpgraph_attack_version_info',
      help: 'ATT&CK release loaded per domain (value 1)',
      labelNames: ['domain', 'version'],
      registers: [this.registry],
      async collect() {
        const s = await snapshot();
        this.reset();
        for (const d of s?.domains ?? [])
          this.set({ domain: d.domain, version: d.version ?? 'unknown' }, 1);
      },
    });
  }

  /** Times each request under its OpenAPI route template, so label values stay few. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        // Stored answers skip the validator: they carry the route they were made for.
        const route =
          (req as Request & { openapi?: { openApiRoute?: string } }).openapi?.openApiRoute ??
          (res.locals.route as string | undefined) ??
          'unmatched';
        const key = `${req.method} ${route} ${res.statusCode}`;
        let child = this.children.get(key);
        if (!child) {
          child = this.http.labels(req.method, route, String(res.statusCode));
          this.children.set(key, child);
        }
        child.observe(Number(process.hrtime.bigint() - started) / 1e9);
      });
      next();
    };
  }

  observeQuery(name: string, mode: 'READ' | 'WRITE', seconds: number, failed: boolean): void {
    this.queries.observe({ query: name, mode }, seconds);
    if (failed) this.queryErrors.inc({ query: name });
  }
}
