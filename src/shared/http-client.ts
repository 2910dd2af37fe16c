import { SourceError } from './errors';

export interface HttpGetOptions {
  timeoutMs: number;
  maxBytes: number;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: Headers;
  bytes: Buffer;
}

/** Seconds or an HTTP date (RFC 9110 §10.2.3) → milliseconds from now; null when absent or bad. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * One GET with a deadline and a size limit, the whole body read and checked against its declared
 * length. Any status is returned (callers decide what 304, 404 or 429 mean); a dead, slow, cut or
 * oversized answer is a SourceError.
 */
export async function httpGet(url: string, opts: HttpGetOptions): Promise<HttpResponse> {
  const signals = [AbortSignal.timeout(opts.timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.any(signals), headers: opts.headers });
  } catch (err) {
    throw new SourceError(`cannot fetch ${url}: ${why(err, opts)}`);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > opts.maxBytes) {
    await res.body?.cancel();
    throw new SourceError(`${url} is ${declared} bytes, over the limit of ${opts.maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of res.body ?? []) {
      received += chunk.length;
      if (received > opts.maxBytes) {
        throw new SourceError(`${url} sent more than the limit of ${opts.maxBytes} bytes`);
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
      `the download of ${url} broke off after ${received} bytes: ${why(err, opts)}`,
    );
  }
  // Compressed transfers make Content-Length the wire size, so only a plain one is checked.
  if (!Number.isNaN(declared) && !res.headers.get('content-encoding') && received !== declared) {
    throw new SourceError(`the download of ${url} was cut short: ${received} of ${declared} bytes`);
  }
  return { url, status: res.status, headers: res.headers, bytes: Buffer.concat(chunks) };
}

/** A non-2xx answer as the error to report (with the server's Retry-After for 429 and 503). */
export function statusError(res: HttpResponse): SourceError {
  const wait = retryAfterMs(res.headers.get('retry-after'));
  return new SourceError(
    `${res.url} answered HTTP ${res.status}${wait !== null ? ` (retry after ${Math.ceil(wait / 1000)} s)` : ''}`,
    { status: res.status, retryAfterMs: wait },
  );
}

function why(err: unknown, opts: HttpGetOptions): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${opts.timeoutMs} ms`;
  if (e.name === 'AbortError') return 'cancelled';
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
