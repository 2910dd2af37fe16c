import { loadQueries } from '../shared/cypher';
import type { Logger } from '../shared/logger';
import type { Graph } from '../shared/neo4j';

/**
 * Answers about ATT&CK reference data, kept in process and thrown away when a release changes
 * the graph. An import in this process clears it at once; one made elsewhere (the CLI, another
 * instance) is noticed by polling the data version, so answers may lag that long.
 * Concurrent identical requests share one computation.
 */
export class ReleaseCache {
  private readonly q = loadQueries(['attack/data-version']);
  private readonly entries = new Map<string, Promise<unknown>>();
  private version: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly graph: Graph,
    private readonly log: Logger,
    private readonly maxEntries: number,
    private readonly pollMs: number,
  ) {}

  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  /** Reads the current data version and starts polling it. */
  async start(): Promise<void> {
    if (!this.enabled) return;
    await this.refresh();
    this.timer = setInterval(
      () =>
        void this.refresh().catch((err) =>
          this.log.warn({ err: (err as Error).message }, 'data version check failed'),
        ),
      this.pollMs,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    const [row] = await this.graph.read<{ version: string[] }>(this.q['attack/data-version']);
    const version = (row?.version ?? []).join('|');
    if (version !== this.version) {
      if (this.version !== undefined)
        this.log.info({ version }, 'ATT&CK data changed: cache cleared');
      this.version = version;
      this.entries.clear();
    }
  }

  invalidate(): void {
    this.entries.clear();
  }

  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    if (!this.enabled) return compute();
    const hit = this.entries.get(key);
    if (hit) {
      // Map order is recency order: a hit moves to the back.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit as Promise<T>;
    }
    const value = compute();
    this.entries.set(key, value);
    value.catch(() => this.entries.delete(key));
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return value;
  }
}
