import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SourceError } from '../shared/errors';
import { httpGet, statusError, type HttpGetOptions } from '../shared/http-client';
import { redactUrl } from '../shared/url-guard';

export interface FetchedBundle {
  bytes: Buffer;
  /** Where it came from, as given (a URL or an absolute path). */
  source: string;
  sha256: string;
  /** HTTP validators of the answer, for the next conditional request. */
  etag?: string | null;
  lastModified?: string | null;
  /** A conditional request answered 304: no bytes, nothing changed. */
  notModified?: boolean;
}

export type FetchOptions = Omit<HttpGetOptions, 'signal'> & { signal?: AbortSignal };

export function sha256Bytes(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readLocal(file: string, opts: FetchOptions): Promise<FetchedBundle> {
  const abs = path.resolve(file);
  let size: number;
  try {
    size = (await stat(abs)).size;
  } catch (err) {
    throw new SourceError(
      `cannot read ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (size > opts.maxBytes) {
    throw new SourceError(
      `${abs} is ${size} bytes, over the limit of ${opts.maxBytes} (TTPGRAPH_MAX_BUNDLE_BYTES)`,
    );
  }
  const bytes = await readFile(abs);
  return { bytes, source: abs, sha256: sha256Bytes(bytes) };
}

async function readHttp(given: string, opts: FetchOptions): Promise<FetchedBundle> {
  // Recorded and shown without the credentials a URL may carry.
  const url = redactUrl(given);
  const res = await httpGet(given, {
    ...opts,
    headers: {
      accept: 'application/json, application/stix+json, application/gzip;q=0.9, */*;q=0.5',
      ...opts.headers,
    },
  });
  if (res.status === 304)
    return {
      bytes: Buffer.alloc(0),
      source: url,
      sha256: '',
      notModified: true,
      etag: opts.headers?.['if-none-match'] ?? null,
      lastModified: opts.headers?.['if-modified-since'] ?? null,
    };
  if (res.status < 200 || res.status > 299) throw statusError(res);
  return {
    bytes: res.bytes,
    source: url,
    sha256: sha256Bytes(res.bytes),
    etag: res.headers.get('etag'),
    lastModified: res.headers.get('last-modified'),
  };
}

/** Reads a bundle from an http(s) URL, a file: URL or a path; gzip or not is decided later. */
export async function fetchBundle(location: string, opts: FetchOptions): Promise<FetchedBundle> {
  if (/^https?:\/\//i.test(location)) return readHttp(location, opts);
  if (/^file:/i.test(location)) return readLocal(fileURLToPath(location), opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new SourceError(`unsupported URL scheme in ${location}: use http(s), file: or a path`);
  }
  return readLocal(location, opts);
}
