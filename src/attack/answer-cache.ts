import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { loadQueries } from '../shared/cypher';
import type { Logger } from '../shared/logger';
import type { Graph } from '../shared/neo4j';
import { packageRoot, packageVersion } from '../shared/paths';

// Rough per-entry overhead beyond the body and key (Map slots, Buffer header, promise).
const ENTRY_OVERHEAD = 256;
/** Below this, compressing saves less than the headers it costs. */
export const COMPRESS_MIN_BYTES = 1024;
/** The most used answers of a release, computed again (with their encodings) after the next one. */
const WARM_COUNT = 64;
/**
 * Tags are remembered after their answer's bytes were evicted (so a 304 needs no recompute), within
 * this share of the byte budget: URLs are the caller's to choose, and may be long.
 */
const TAG_SHARE = 1 / 8;
const TAG_OVERHEAD = 96;

export type Coding = 'br' | 'gzip';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);
// Each encoding is made once per release and served many times: the best compression is worth it.
const ENCODE: Record<Coding, (b: Buffer) => Promise<Buffer>> = {
  br: (b) =>
    brotli(b, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
        [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
        [zlib.BROTLI_PARAM_SIZE_HINT]: b.length,
      },
    }),
  gzip: (b) => gzipped(b, { level: zlib.Z_BEST_COMPRESSION }),
};

/**
 * What an answer's tag depends on besides the data version and the URL: the code that shapes it
 * (package version) and the contract it follows. Replicas of one build give equal tags, so a
 * client's revalidation succeeds whichever replica it reaches.
 */
function buildId(): string {
  const spec = readFileSync(path.join(packageRoot(), 'openapi.yaml'));
  return `${packageVersion()}:${createHash('sha256').update(spec).digest('hex').slice(0, 16)}`;
}

/** One answer as stored: JSON bytes, their strong tag, and compressed forms made once if asked. */
export class StoredAnswer {
  private readonly encodings = new Map<Coding, Promise<Buffer>>();

  constructor(
    readonly body: Buffer,
    /** Unquoted; null when the data version was being re-read (the answer is not kept then). */
    readonly tag: string | null,
    /** The OpenAPI route it answers, for metrics when it is served without routing. */
    readonly route: string,
    private readonly grown: (bytes: number) => void = () => undefined,
  ) {}

  /** The body in `coding`, compressed on first use (off the event loop) and kept. */
  encoded(coding: Coding): Promise<Buffer> {
    let value = this.encodings.get(coding);
    if (!value) {
      value = ENCODE[coding](this.body);
      this.encodings.set(coding, value);
      value.then(
        (b) => this.grown(b.length),
        () => this.encodings.delete(coding),
      );
    }
    return value;
  }
}

/** What is known of an answer of the current release without computing it. */
export interface KnownAnswer {
  tag: string;
  route: string;
  size: number;
  /** Its bytes, unless evicted since. */
  stored?: StoredAnswer;
}

interface Entry {
  key: string;
  value: Promise<StoredAnswer>;
  settled?: StoredAnswer;
  /** Bytes accounted to it: 0 while computing. */
  cost: number;
  hits: number;
  route: string;
  compute: () => Promise<unknown>;
}

/**
 * ATT&CK answers, serialised once per data version and kept as bytes with a strong tag, thrown
 * away when a release changes the graph; the most used are computed again right after it.
 * Bounded in bytes (least recently used go first, compressed forms counted); an answer larger than
 * a sixteenth of the budget is not kept, so a few huge pages cannot push out the many small hot
 * ones. An import in this process clears it at once; one made elsewhere (the CLI, another replica)
 * is noticed by polling the data version, so answers may lag that long. Concurrent identical
 * requests share one computation.
 */
export class AnswerCache {
  private readonly q = loadQueries(['attack/data-version']);
  private readonly build = buildId();
  private readonly entries = new Map<string, Entry>();
  private readonly tags = new Map<string, { tag: string; route: string; size: number }>();
  private bytes = 0;
  private tagBytes = 0;
  /** undefined until read, and from a local import until read again: nothing is tagged then. */
  private version: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The warm-up after the last change (tests and benchmarks wait for it). */
  warming: Promise<void> = Promise.resolve();

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

  /** Bytes held by remembered tags (their URLs). */
  get tagSize(): number {
    return this.tagBytes;
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
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    const [row] = await this.graph.read<{ version: string[] }>(this.q['attack/data-version']);
    const version = (row?.version ?? []).join('|');
    if (version === this.version) return;
    const hot = this.hottest();
    if (this.version !== undefined)
      this.log.info({ version }, 'ATT&CK data changed: answer cache cleared');
    this.clear();
    this.version = version;
    if (hot.length > 0) this.warming = this.warm(hot);
  }

  /**
   * A release was applied here: nothing is tagged until the new data version is read (an answer
   * computed meanwhile must not carry the old version's tag), then the hot answers are rebuilt.
   */
  invalidate(): void {
    const hot = this.hottest();
    this.clear();
    this.version = undefined;
    if (!this.enabled) return;
    this.warming = this.refresh()
      .then(() => this.warm(hot))
      .catch((err) => this.log.warn({ err: (err as Error).message }, 'data version check failed'));
  }

  /** The tag, route and (unless evicted) bytes of an answer of this release, if it was made. */
  known(key: string): KnownAnswer | undefined {
    const t = this.tags.get(key);
    if (!t) return undefined;
    const entry = this.entries.get(key);
    if (entry?.settled) this.touch(entry);
    return { ...t, stored: entry?.settled };
  }

  /** The answer for `key`: kept from an earlier request, or computed now. */
  answer(key: string, route: string, compute: () => Promise<unknown>): Promise<StoredAnswer> {
    const version = this.version;
    if (!this.enabled || version === undefined)
      return serialise(compute).then((body) => new StoredAnswer(body, null, route));
    const hit = this.entries.get(key);
    if (hit) {
      this.touch(hit);
      return hit.value;
    }
    const entry: Entry = { key, value: undefined as never, cost: 0, hits: 1, route, compute };
    entry.value = serialise(compute).then(
      (body) => new StoredAnswer(body, this.tagOf(version, key), route, (n) => this.grow(entry, n)),
    );
    this.entries.set(key, entry);
    entry.value.then(
      (answer) => this.settle(entry, answer),
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.value;
  }

  /** Map order is recency order: a hit moves to the back. */
  private touch(entry: Entry): void {
    this.entries.delete(entry.key);
    this.entries.set(entry.key, entry);
    entry.hits++;
  }

  private tagOf(version: string, key: string): string {
    return createHash('sha256')
      .update(`${this.build}\0${version}\0${key}`)
      .digest('base64url')
      .slice(0, 27);
  }

  private settle(entry: Entry, answer: StoredAnswer): void {
    const key = entry.key;
    // Cleared (new data version) or replaced while it was computed: not ours to account.
    if (this.entries.get(key) !== entry) return;
    const tagCost = key.length * 2 + TAG_OVERHEAD;
    if (answer.tag && this.tagBytes + tagCost <= this.maxBytes * TAG_SHARE) {
      this.tags.set(key, { tag: answer.tag, route: answer.route, size: answer.body.length });
      this.tagBytes += tagCost;
    }
    const cost = answer.body.length + key.length * 2 + ENTRY_OVERHEAD;
    if (cost > this.maxBytes / 16) {
      this.entries.delete(key);
      return;
    }
    entry.settled = answer;
    this.grow(entry, cost);
  }

  /** Accounts bytes to a kept entry (its body, then each encoding) and evicts down to the budget. */
  private grow(entry: Entry, bytes: number): void {
    // An evicted or cleared entry's late encodings are not ours to account.
    if (!entry.settled || this.entries.get(entry.key) !== entry) return;
    entry.cost += bytes;
    this.bytes += bytes;
    for (const [oldest, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      // Answers still being computed hold no bytes yet.
      if (!e.settled) continue;
      this.entries.delete(oldest);
      this.bytes -= e.cost;
    }
  }

  private clear(): void {
    this.entries.clear();
    this.tags.clear();
    this.bytes = 0;
    this.tagBytes = 0;
  }

  private hottest(): Entry[] {
    return [...this.entries.values()]
      .filter((e) => e.settled)
      .sort((a, b) => b.hits - a.hits)
      .slice(0, WARM_COUNT);
  }

  /** Computes the last release's most used answers and their encodings again, one at a time. */
  private async warm(hot: Entry[]): Promise<void> {
    const started = Date.now();
    let warmed = 0;
    for (const { key, route, compute } of hot) {
      if (this.stopped || this.version === undefined) return;
      try {
        const answer = await this.answer(key, route, compute);
        if (answer.body.length >= COMPRESS_MIN_BYTES)
          await Promise.all([answer.encoded('br'), answer.encoded('gzip')]);
        warmed++;
      } catch (err) {
        this.log.warn({ key, err: (err as Error).message }, 'answer not warmed');
      }
    }
    this.log.info({ warmed, ms: Date.now() - started }, 'hot ATT&CK answers warmed');
  }
}

async function serialise(compute: () => Promise<unknown>): Promise<Buffer> {
  return Buffer.from(JSON.stringify(await compute()));
}
