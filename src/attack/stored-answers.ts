import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { notModified, preferredCoding } from '../http/conditional';
import { header } from '../http/front-door';
import { SECURITY_HEADER_NAMES } from '../http/security-headers';
import {
  COMPRESS_MIN_BYTES,
  type AnswerCache,
  type Coding,
  type KnownAnswer,
  type StoredAnswer,
} from './answer-cache';

/**
 * Reference data is the same for every reader and changes only with a release: any cache may keep
 * it but must ask again before each use (the revalidation carries the caller's token, so the
 * service still decides who reads). Tenant answers stay `no-store` (security-headers).
 */
const REFERENCE_CACHE_CONTROL = 'public, no-cache';

const quoted = (tag: string, coding: Coding | 'identity') =>
  coding === 'identity' ? `"${tag}"` : `"${tag}-${coding}"`;

/** Headers a 200 and a 304 of a stored answer share; answers whether the caller's copy is current. */
function conditional(
  req: Request,
  res: Response,
  tag: string | null,
  size: number,
): { coding: Coding | 'identity'; current: boolean } {
  const coding =
    size >= COMPRESS_MIN_BYTES ? preferredCoding(header(req, 'accept-encoding')) : 'identity';
  res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('Cache-Control', REFERENCE_CACHE_CONTROL);
  if (tag === null) return { coding, current: false };
  const etag = quoted(tag, coding);
  res.setHeader('ETag', etag);
  return { coding, current: notModified(header(req, 'if-none-match'), etag) };
}

/**
 * A 304 carries what a cache updates its stored answer with (RFC 9110 §15.4.5: ETag, Cache-Control,
 * Vary, Date) and nothing else: the stored 200 keeps its own security headers, and every byte
 * saved is saved on the most frequent answer of all.
 */
function notModifiedAnswer(res: Response): void {
  for (const name of SECURITY_HEADER_NAMES) res.removeHeader(name);
  res.statusCode = 304;
  res.end();
}

/** Sends a stored answer: 304 when the caller's copy is current, else its bytes in the best coding. */
export async function sendStored(req: Request, res: Response, answer: StoredAnswer): Promise<void> {
  const { coding, current } = conditional(req, res, answer.tag, answer.body.length);
  if (current) return notModifiedAnswer(res);
  const body = coding === 'identity' ? answer.body : await answer.encoded(coding);
  if (coding !== 'identity') res.setHeader('Content-Encoding', coding);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

/**
 * Answers a GET whose answer this release already made, at the server's front door (before
 * Express's router): its URL (path and query, all a reference answer depends on) passed the
 * contract's validator when the answer was made, so only the token (`authenticate`, and the
 * caller's rate) and Casbin's permission (the routes' own `readAttack`) are asked again, by the
 * same middleware the routes use. `takes` claims such a request; the last step answers it (a 304,
 * or the stored bytes) or leaves it to the routes.
 */
export function storedAnswerLane(
  cache: AnswerCache,
  authenticate: RequestHandler,
  limit: RequestHandler,
  permit: RequestHandler,
): { takes: (req: IncomingMessage) => boolean; steps: RequestHandler[] } {
  const known = (req: IncomingMessage): KnownAnswer | undefined =>
    (req.method === 'GET' || req.method === 'HEAD') && cache.enabled
      ? cache.known(req.url ?? '')
      : undefined;
  return {
    takes: (req) => known(req) !== undefined,
    steps: [
      authenticate,
      limit,
      permit,
      async (req: Request, res: Response, next: NextFunction) => {
        // Looked up again: the answer may have gone from the cache meanwhile.
        const answer = known(req);
        if (!answer) return next();
        res.locals.route = answer.route;
        const { current } = conditional(req, res, answer.tag, answer.size);
        if (current) return notModifiedAnswer(res);
        if (!answer.stored) return next();
        await sendStored(req, res, answer.stored);
      },
    ],
  };
}
