import { loadQueries } from '../shared/cypher';
import type { Logger } from '../shared/logger';
import type { Graph } from '../shared/neo4j';

// Rough per-entry overhead beyond the body and key (Map slots, Buffer header, promise).
const ENTRY_OVERHEAD = 256;

/**
 * ATT&CK answers, serialised once and kept as bytes, thrown away when a release changes the graph.
 * Bounded in bytes (least recently used go first); an answer larger than a sixteenth of the
 * budget is not kept, so a few huge pages cannot push out the many small hot ones. An import in
 * this process clears it at once; one made elsewhere (the CLI, another instance) is noticed by
 * polling the data version, so answers may lag that long. Concurrent identical requests share one
 * computation.
 */
export class AnswerCache {
  private readonly q = loadQueries(['attack/data-version']);
  private readonly entries = new Map<string, Promise<Buffer>>();
  private readonly costs = new Map<string, number>();
  private bytes = 0;
  private version: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly graph: Graph,
    private readonly log: Logger,
    private readonly maxBytes: number,
    private readonly pollMs: number,
  ) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  /** Bytes held by the answers kept now. */
  get size(): number {
    return this.bytes;
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
        this.log.info({ version }, 'ATT&CK data changed: answer cache cleared');
      this.version = version;
      this.invalidate();
    }
  }

  invalidate(): void {
    this.entries.clear();
    this.costs.clear();
    this.bytes = 0;
  }

  /** The answer for `key` as JSON bytes: kept from an earlier request, or computed now. */
  json(key: string, compute: () => Promise<unknown>): Promise<Buffer> {
    const serialise = async () => Buffer.from(JSON.stringify(await compute()));
    if (!this.enabled) return serialise();
    const hit = this.entries.get(key);
    if (hit) {
      // Map order is recency order: a hit moves to the back.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const value = serialise();
    this.entries.set(key, value);
    value.then(
      (body) => this.settle(key, value, body),
      () => this.forget(key, value),
    );
    return value;
  }

  private settle(key: string, value: Promise<Buffer>, body: Buffer): void {
    // Cleared (new data version) or replaced while it was computed: not ours to account.
    if (this.entries.get(key) !== value) return;
    const cost = body.length + key.length * 2 + ENTRY_OVERHEAD;
    if (cost > this.maxBytes / 16) {
      this.entries.delete(key);
      return;
    }
    this.costs.set(key, cost);
    this.bytes += cost;
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      const c = this.costs.get(oldest);
      // Answers still being computed hold no bytes yet.
      if (c === undefined) continue;
      this.entries.delete(oldest);
      this.costs.delete(oldest);
      this.bytes -= c;
    }
  }

  private forget(key: string, value: Promise<Buffer>): void {
    if (this.entries.get(key) === value) this.entries.delete(key);
  }
}
