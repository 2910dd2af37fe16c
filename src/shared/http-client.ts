import { fetch as guardedFetch } from 'undici';
import { BadRequestError, SourceError } from './errors';
import { redactUrl, type UrlGuard } from './url-guard';

const MAX_REDIRECTS = 5;

export interface HttpGetOptions {
  timeoutMs: number;
  maxBytes: number;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * For URLs an API caller gave: every hop is checked (scheme, host, resolved address), redirects
   * are followed by hand, and failures say nothing of what is behind the URL.
   */
  guard?: UrlGuard;
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
export async function httpGet(given: string, opts: HttpGetOptions): Promise<HttpResponse> {
  const signals = [AbortSignal.timeout(opts.timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  const signal = AbortSignal.any(signals);
  const url = redactUrl(given);
  let res = await open(given, opts, signal);
  for (let hop = 1; opts.guard && res.status >= 300 && res.status < 400; hop++) {
    const location = res.headers.get('location');
    if (!location) break;
    await res.body?.cancel();
    if (hop > MAX_REDIRECTS)
      throw new SourceError(`${url} redirects more than ${MAX_REDIRECTS} times`);
    res = await open(new URL(location, given).toString(), opts, signal);
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

type Answer = Pick<Response, 'status' | 'headers' | 'body'>;

async function open(url: string, opts: HttpGetOptions, signal: AbortSignal): Promise<Answer> {
  try {
    if (!opts.guard) return await fetch(url, { signal, headers: opts.headers });
    opts.guard.check(url);
    return (await guardedFetch(url, {
      signal,
      headers: opts.headers,
      redirect: 'manual',
      dispatcher: opts.guard.dispatcher,
    })) as unknown as Answer;
  } catch (err) {
    if (err instanceof BadRequestError) throw err;
    // A caller-given URL learns nothing of what is behind it: refused, closed or silent alike.
    const reason = opts.guard ? 'no answer from a public https server there' : why(err, opts);
    throw new SourceError(`cannot fetch ${redactUrl(url)}: ${reason}`);
  }
}

function why(err: unknown, opts: HttpGetOptions): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${opts.timeoutMs} ms`;
  if (e.name === 'AbortError') return 'cancelled';
  return e.cause?.code ?? e.cause?.message ?? e.message;
}
