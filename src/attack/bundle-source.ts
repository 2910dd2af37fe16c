import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SourceError } from '../shared/errors';

export interface FetchedBundle {
  bytes: Buffer;
  /** Where it came from, as given (a URL or an absolute path). */
  source: string;
  sha256: string;
}

export interface FetchOptions {
  timeoutMs: number;
  maxBytes: number;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
}

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

async function readHttp(url: string, opts: FetchOptions): Promise<FetchedBundle> {
  let res: Response;
  try {
    res = await fetch(url, {
      signal: AbortSignal.timeout(opts.timeoutMs),
      headers: {
        accept: 'application/json, application/stix+json, application/gzip;q=0.9, */*;q=0.5',
      },
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${opts.timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new SourceError(`cannot fetch ${url}: ${why}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new SourceError(`fetching ${url} answered HTTP ${res.status} ${res.statusText}`.trim());
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > opts.maxBytes) {
    await res.body?.cancel();
    throw new SourceError(
      `${url} is ${declared} bytes, over the limit of ${opts.maxBytes} (TTPGRAPH_MAX_BUNDLE_BYTES)`,
    );
  }
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of res.body ?? []) {
      received += chunk.length;
      if (received > opts.maxBytes) {
        throw new SourceError(
          `${url} sent more than the limit of ${opts.maxBytes} bytes (TTPGRAPH_MAX_BUNDLE_BYTES)`,
        );
      }
      chunks.push(Buffer.from(chunk));
      opts.onProgress?.({
        phase: 'download',
        done: received,
        total: Number.isNaN(declared) ? 0 : declared,
      });
    }
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(
      `the download of ${url} broke off after ${received} bytes: ${(err as Error).message}`,
    );
  }
  // Compressed transfers make Content-Length the wire size, so only a plain one is checked.
  if (!Number.isNaN(declared) && !res.headers.get('content-encoding') && received !== declared) {
    throw new SourceError(`the download of ${url} was cut short: ${received} of ${declared} bytes`);
  }
  const bytes = Buffer.concat(chunks);
  return { bytes, source: url, sha256: sha256Bytes(bytes) };
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
