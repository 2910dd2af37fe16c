import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { TooManyRequestsError } from '../shared/errors';

// Buckets kept at most; the least recently used go first (a full bucket loses nothing by going).
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per user (the token's subject): `rate` requests a second on average, bursts of
 * up to `burst`. One tenant's busy analyzer cannot starve the others. Runs after authentication.
 */
export function rateLimit(rate: number, burst: number, now = () => Date.now()): RequestHandler {
  const buckets = new Map<string, Bucket>();
  // A request that passes this middleware twice (the stored answers' lane, then the routes) pays once.
  const counted = new WeakSet<Request>();
  return (req: Request, res: Response, next: NextFunction) => {
    if (rate <= 0 || !req.auth || counted.has(req)) return next();
    counted.add(req);
    const key = req.auth.identity.userId;
    const t = now();
    const b = buckets.get(key) ?? { tokens: burst, at: t };
    buckets.delete(key);
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * rate);
    b.at = t;
    buckets.set(key, b);
    if (buckets.size > MAX_BUCKETS) buckets.delete(buckets.keys().next().value as string);
    if (b.tokens < 1) {
      throw new TooManyRequestsError(
        `over ${rate} requests a second (bursts of ${burst}): slow down`,
        Math.max(1, Math.ceil((1 - b.tokens) / rate)),
      );
    }
    b.tokens -= 1;
    res.setHeader('RateLimit-Remaining', Math.floor(b.tokens));
    next();
  };
}
