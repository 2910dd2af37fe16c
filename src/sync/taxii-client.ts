import { setTimeout as sleep } from 'node:timers/promises';
import { SourceError } from '../shared/errors';
import { httpGet, retryAfterMs, statusError, type HttpResponse } from '../shared/http-client';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

export interface TaxiiOptions {
  /** The API root (MITRE's by default); a discovery URL (…/taxii2/) is resolved to its default root. */
  url: string;
  pageSize: number;
  /** Requests this client may make in one sync: MITRE allows 50 per 10 minutes per address. */
  maxRequests: number;
  timeoutMs: number;
  maxBytes: number;
  /** The longest Retry-After a 429 may ask for and still be waited out inside the run. */
  maxRetryWaitMs?: number;
  signal?: AbortSignal;
  /** Told of every request made (the run record counts them). */
  onRequest?: () => void;
}

interface Envelope {
  more?: boolean;
  next?: string;
  objects?: Array<Record<string, unknown>>;
}

const MAX_PAGES = 10_000;

/**
 * A TAXII 2.1 client for the calls a sync makes (discovery, collections, manifest, objects),
 * counting every request against a budget so a poll never exceeds the server's limit.
 */
export class TaxiiClient {
  requests = 0;
  private root: string | undefined;

  constructor(private readonly opts: TaxiiOptions) {}

  private async get(url: string): Promise<{ body: unknown; res: HttpResponse }> {
    for (;;) {
      if (this.requests >= this.opts.maxRequests) {
        throw new SourceError(
          `the TAXII request budget of ${this.opts.maxRequests} per sync is spent (TTPGRAPH_TAXII_MAX_REQUESTS); the next sync continues`,
        );
      }
      this.requests++;
      this.opts.onRequest?.();
      const res = await httpGet(url, {
        timeoutMs: this.opts.timeoutMs,
        maxBytes: this.opts.maxBytes,
        signal: this.opts.signal,
        headers: { accept: TAXII_MEDIA_TYPE },
      });
      if (res.status === 429) {
        const wait = retryAfterMs(res.headers.get('retry-after'));
        // A short wait is taken here; a long one ends the run and sets the next attempt's backoff.
        if (wait !== null && wait <= (this.opts.maxRetryWaitMs ?? 30_000)) {
          await sleep(wait, undefined, { signal: this.opts.signal });
          continue;
        }
        throw statusError(res);
      }
      if (res.status < 200 || res.status > 299) throw statusError(res);
      try {
        return { body: JSON.parse(res.bytes.toString('utf8')) as unknown, res };
      } catch {
        throw new SourceError(`${url} did not answer TAXII JSON (${res.bytes.length} bytes)`);
      }
    }
  }

  /** The API root: the configured URL, or the discovery resource's default root. */
  async apiRoot(): Promise<string> {
    if (this.root) return this.root;
    if (!/\/taxii2\/?$/.test(new URL(this.opts.url).pathname)) return (this.root = this.opts.url);
    const { body } = await this.get(this.opts.url);
    const d = body as { default?: string; api_roots?: string[] };
    const root = d.default ?? d.api_roots?.[0];
    if (!root) throw new SourceError(`the TAXII discovery at ${this.opts.url} names no API root`);
    const abs = new URL(root, this.opts.url).toString();
    return (this.root = abs.endsWith('/') ? abs : `${abs}/`);
  }

  async collections(): Promise<Array<{ id: string; title?: string; can_read?: boolean }>> {
    const { body } = await this.get(`${await this.apiRoot()}collections/`);
    return ((body as { collections?: unknown[] }).collections ?? []) as Array<{ id: string }>;
  }

  /** One request: whether anything was added to the collection after `addedAfter`. */
  async changedSince(collection: string, addedAfter: string): Promise<boolean> {
    const url = `${await this.apiRoot()}collections/${collection}/manifest/?limit=1&added_after=${encodeURIComponent(addedAfter)}`;
    const { body } = await this.get(url);
    return ((body as { objects?: unknown[] }).objects ?? []).length > 0;
  }

  /**
   * Every object of a collection, page by page (`limit` / `next`), with the newest date_added the
   * server reported. A `next` token seen before, or `more` without one, is an error, not a loop.
   */
  async objects(
    collection: string,
    onPage?: (fetched: number) => void,
  ): Promise<{ objects: Array<Record<string, unknown>>; addedLast: string | null }> {
    const base = `${await this.apiRoot()}collections/${collection}/objects/?limit=${this.opts.pageSize}`;
    const objects: Array<Record<string, unknown>> = [];
    const seen = new Set<string>();
    let addedLast: string | null = null;
    let next: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const url = next === undefined ? base : `${base}&next=${encodeURIComponent(next)}`;
      const { body, res } = await this.get(url);
      const env = body as Envelope;
      if (!Array.isArray(env.objects ?? [])) {
        throw new SourceError(`${url} answered an envelope without an objects list`);
      }
      objects.push(...(env.objects ?? []));
      const last = res.headers.get('x-taxii-date-added-last');
      if (last && (!addedLast || last > addedLast)) addedLast = last;
      onPage?.(objects.length);
      if (!env.more) return { objects, addedLast };
      if (!env.next) throw new SourceError(`${url} says more=true but gives no next token`);
      if (seen.has(env.next)) {
        throw new SourceError(
          `the TAXII server repeats the next token "${env.next}": paging loops`,
        );
      }
      seen.add(env.next);
      next = env.next;
    }
    throw new SourceError(`more than ${MAX_PAGES} pages from ${base}`);
  }
}
