import {
  Router,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { notModified, preferredCoding } from '../http/conditional';
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
    size >= COMPRESS_MIN_BYTES ? preferredCoding(req.get('accept-encoding')) : 'identity';
  res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('Cache-Control', REFERENCE_CACHE_CONTROL);
  if (tag === null) return { coding, current: false };
  const etag = quoted(tag, coding);
  res.setHeader('ETag', etag);
  return { coding, current: notModified(req.get('if-none-match'), etag) };
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
 * Answers a GET whose answer this release already made, first thing after the headers every answer
 * carries: its URL (path and query, all a reference answer depends on) passed the contract's
 * validator when the answer was made, so only the token (`authenticate`, and the caller's rate)
 * and Casbin's permission (the routes' own `readAttack`) are asked again. Any other request leaves
 * this router at once.
 */
export function storedAnswers(
  cache: AnswerCache,
  authenticate: RequestHandler,
  limit: RequestHandler,
  permit: RequestHandler,
): Router {
  const lane = Router();
  lane.use(
    (req: Request, res: Response, next: NextFunction) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || !cache.enabled) return next('router');
      const known = cache.known(req.originalUrl);
      if (!known) return next('router');
      res.locals.known = known;
      next();
    },
    authenticate,
    limit,
    permit,
    async (req: Request, res: Response, next: NextFunction) => {
      const known = res.locals.known as KnownAnswer;
      res.locals.route = known.route;
      const { current } = conditional(req, res, known.tag, known.size);
      if (current) return notModifiedAnswer(res);
      if (!known.stored) return next('router');
      await sendStored(req, res, known.stored);
    },
  );
  return lane;
}
