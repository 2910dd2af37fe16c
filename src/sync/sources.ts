import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { compareVersions } from '../attack/versions';
import { fileURLToPath } from 'node:url';
import { fetchBundle, sha256Bytes, type FetchedBundle } from '../attack/bundle-source';
import { ATTACK_COLLECTIONS, type SyncConfig } from '../shared/config';
import { SourceError } from '../shared/errors';
import { httpGet, statusError } from '../shared/http-client';
import { TaxiiClient } from './taxii-client';

/** What the graph remembers of a polled source, to ask only for what changed. */
export interface SourceState {
  key: string;
  etag: string | null;
  lastModified: string | null;
  addedLast: string | null;
  version: string | null;
  modified: string | null;
}

/** A release to apply: fetched when the lease is held, its validators saved once it applied. */
export interface Pending {
  /** Known for index and TAXII sources; a bundle's own content tells it otherwise. */
  domain?: string;
  describe: string;
  fetch(
    onProgress?: (p: { phase: string; done: number; total: number }) => void,
  ): Promise<FetchedBundle>;
  /** Saved after the release applied, so a failed one is fetched again next time. */
  saves: SourceState[];
}

export interface Detection {
  pending: Pending[];
  unchanged: Array<{ domain?: string; describe: string }>;
  /** Saved only when every pending release applied (an index's validators). */
  savesWhenAllApplied: SourceState[];
}

export interface SourceContext {
  state: Map<string, SourceState>;
  /** Domain → the version the graph holds. */
  domains: Map<string, string | null>;
  /** Ask for everything, ignoring validators (forced or explicitly requested imports). */
  refetch: boolean;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  /** Counts requests to remote sources (the benchmark and the run record report it). */
  onRequest(): void;
}

export const emptyState = (key: string): SourceState => ({
  key,
  etag: null,
  lastModified: null,
  addedLast: null,
  version: null,
  modified: null,
});

function conditionalHeaders(s: SourceState | undefined, force: boolean): Record<string, string> {
  if (force || !s) return {};
  const h: Record<string, string> = {};
  if (s.etag) h['if-none-match'] = s.etag;
  if (s.lastModified) h['if-modified-since'] = s.lastModified;
  return h;
}

const isHttp = (u: string) => /^https?:\/\//i.test(u);

interface IndexVersion {
  version: string;
  url: string;
  modified?: string;
}
interface IndexCollection {
  id?: string;
  name?: string;
  versions?: IndexVersion[];
}

/**
 * MITRE's attack-stix-data index.json: one conditional request per poll; a domain's bundle is
 * downloaded only when the index lists another version or modified time than the one applied.
 */
export async function detectFromIndex(
  url: string,
  wanted: string[],
  ctx: SourceContext,
): Promise<Detection> {
  const key = `index:${url}`;
  const saved = ctx.state.get(key);
  const out: Detection = { pending: [], unchanged: [], savesWhenAllApplied: [] };
  const body = await readIndex(url, conditionalHeaders(saved, ctx.refetch), ctx);
  if (body === null) {
    out.unchanged = wanted.map((domain) => ({ domain, describe: url }));
    return out;
  }
  out.savesWhenAllApplied.push({
    ...emptyState(key),
    etag: body.etag,
    lastModified: body.lastModified,
  });
  for (const domain of wanted) {
    const collection = body.collections.find(
      (c) => c.id === ATTACK_COLLECTIONS[domain] || c.versions?.[0]?.url.includes(`/${domain}/`),
    );
    const versions = (collection?.versions ?? []).filter((v) => v.version && v.url);
    const latest = versions.sort((a, b) => compareVersions(b.version, a.version))[0];
    if (!latest) throw new SourceError(`${url} lists no version of ${domain}`);
    const domainKey = `${key}#${domain}`;
    const prior = ctx.state.get(domainKey);
    const bundleUrl = new URL(latest.url, url).toString();
    if (
      !ctx.refetch &&
      prior?.version === latest.version &&
      prior.modified === (latest.modified ?? null) &&
      ctx.domains.get(domain) === latest.version
    ) {
      out.unchanged.push({ domain, describe: bundleUrl });
      continue;
    }
    out.pending.push({
      domain,
      describe: bundleUrl,
      fetch: (onProgress) => {
        ctx.onRequest();
        return fetchBundle(bundleUrl, { ...ctx, onProgress });
      },
      saves: [
        { ...emptyState(domainKey), version: latest.version, modified: latest.modified ?? null },
      ],
    });
  }
  return out;
}

async function readIndex(
  url: string,
  headers: Record<string, string>,
  ctx: SourceContext,
): Promise<{
  collections: IndexCollection[];
  etag: string | null;
  lastModified: string | null;
} | null> {
  let bytes: Buffer;
  let etag: string | null = null;
  let lastModified: string | null = null;
  if (isHttp(url)) {
    ctx.onRequest();
    const res = await httpGet(url, {
      timeoutMs: ctx.timeoutMs,
      maxBytes: 16 * 1024 * 1024,
      signal: ctx.signal,
      headers: { accept: 'application/json', ...headers },
    });
    if (res.status === 304) return null;
    if (res.status < 200 || res.status > 299) throw statusError(res);
    bytes = res.bytes;
    etag = res.headers.get('etag');
    lastModified = res.headers.get('last-modified');
  } else {
    bytes = (await fetchBundle(url, { timeoutMs: ctx.timeoutMs, maxBytes: 16 * 1024 * 1024 }))
      .bytes;
    etag = sha256Bytes(bytes);
    if (!ctx.refetch && headers['if-none-match'] === etag) return null;
  }
  let parsed: { collections?: unknown };
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as { collections?: unknown };
  } catch {
    throw new SourceError(`${url} is not valid JSON (${bytes.length} bytes)`);
  }
  if (!Array.isArray(parsed.collections)) {
    throw new SourceError(`${url} is not an ATT&CK index: it has no "collections" list`);
  }
  return { collections: parsed.collections as IndexCollection[], etag, lastModified };
}

/**
 * Bundles named directly: http(s) URLs (conditional GET with the ETag / Last-Modified of the last
 * applied answer), files and directories of *.json / *.json.gz (size and mtime as validators).
 */
export async function detectFromBundles(urls: string[], ctx: SourceContext): Promise<Detection> {
  const out: Detection = { pending: [], unchanged: [], savesWhenAllApplied: [] };
  for (const given of urls) {
    for (const location of await expand(given)) {
      const key = `bundle:${location}`;
      const saved = ctx.state.get(key);
      if (isHttp(location)) {
        ctx.onRequest();
        const fetched = await fetchBundle(location, {
          timeoutMs: ctx.timeoutMs,
          maxBytes: ctx.maxBytes,
          signal: ctx.signal,
          headers: conditionalHeaders(saved, ctx.refetch),
        });
        if (fetched.notModified) {
          out.unchanged.push({ describe: location });
          continue;
        }
        out.pending.push({
          describe: location,
          fetch: () => Promise.resolve(fetched),
          saves: [
            {
              ...emptyState(key),
              etag: fetched.etag ?? null,
              lastModified: fetched.lastModified ?? null,
            },
          ],
        });
        continue;
      }
      const file = /^file:/i.test(location) ? fileURLToPath(location) : path.resolve(location);
      const st = await stat(file).catch((err: NodeJS.ErrnoException) => {
        throw new SourceError(`cannot read ${file}: ${err.code ?? err.message}`);
      });
      const stamp = `${st.size}:${Math.trunc(st.mtimeMs)}`;
      if (!ctx.refetch && saved?.etag === stamp) {
        out.unchanged.push({ describe: file });
        continue;
      }
      out.pending.push({
        describe: file,
        fetch: () => fetchBundle(file, { timeoutMs: ctx.timeoutMs, maxBytes: ctx.maxBytes }),
        saves: [{ ...emptyState(key), etag: stamp }],
      });
    }
  }
  return out;
}

/** A directory stands for the bundles in it (air-gapped sites drop releases there). */
async function expand(location: string): Promise<string[]> {
  if (isHttp(location) || /^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return [location];
  const file = /^file:/i.test(location) ? fileURLToPath(location) : path.resolve(location);
  const st = await stat(file).catch(() => null);
  if (!st?.isDirectory()) return [location];
  const names = (await readdir(file)).filter((n) => /\.json(\.gz)?$/i.test(n)).sort();
  if (names.length === 0) throw new SourceError(`${file} holds no *.json or *.json.gz bundle`);
  return names.map((n) => path.join(file, n));
}

/**
 * TAXII 2.1 collections: when the graph already holds a collection, one manifest request asks
 * whether anything was added since; otherwise (or when something was) every object is fetched,
 * page by page, and applied as one release so removals are seen too.
 */
export async function detectFromTaxii(
  cfg: SyncConfig['taxii'],
  wanted: string[],
  ctx: SourceContext,
): Promise<Detection> {
  const client = new TaxiiClient({
    url: cfg.url,
    pageSize: cfg.pageSize,
    maxRequests: cfg.maxRequests,
    timeoutMs: ctx.timeoutMs,
    maxBytes: ctx.maxBytes,
    signal: ctx.signal,
    onRequest: ctx.onRequest,
  });
  const out: Detection = { pending: [], unchanged: [], savesWhenAllApplied: [] };
  const root = await client.apiRoot();
  for (const domain of wanted) {
    const collection = cfg.collections[domain] as string;
    const key = `taxii:${root}collections/${collection}/`;
    const saved = ctx.state.get(key);
    const held = ctx.domains.get(domain) !== undefined;
    if (!ctx.refetch && held && saved?.addedLast) {
      const addedLast = saved.addedLast;
      if (!(await client.changedSince(collection, addedLast))) {
        out.unchanged.push({ domain, describe: key.slice('taxii:'.length) });
        continue;
      }
    }
    const saves: SourceState[] = [];
    out.pending.push({
      domain,
      describe: key.slice('taxii:'.length),
      saves,
      fetch: async (onProgress) => {
        const { objects, addedLast } = await client.objects(collection, (n) =>
          onProgress?.({ phase: 'taxii objects', done: n, total: 0 }),
        );
        const newest = addedLast ?? new Date().toISOString();
        saves.push({ ...emptyState(key), addedLast: newest });
        // The bundle id is fixed per collection so the same content hashes the same.
        const bytes = Buffer.from(
          JSON.stringify({ type: 'bundle', id: `bundle--${collection.split('--')[1]}`, objects }),
        );
        return { bytes, source: key.slice('taxii:'.length), sha256: sha256Bytes(bytes) };
      },
    });
  }
  return out;
}
