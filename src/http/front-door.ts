import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';

/** A request header as one string, from Node's own request (no Express needed). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The path of the request's URL, without its query (what Express calls `req.path` at the root). */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** A middleware that runs once per request, however many chains it sits in. */
export function once(mw: RequestHandler): RequestHandler {
  const ran = new WeakSet<IncomingMessage>();
  return (req, res, next) => {
    if (ran.has(req)) return next();
    ran.add(req);
    return mw(req, res, next);
  };
}

const LANE_ERROR = Symbol('front door error');
type Marked = IncomingMessage & { [LANE_ERROR]?: unknown };

/** In Express, right after the shared middleware: an error raised at the front door is this request's. */
export const frontDoorErrors: RequestHandler = (req, _res, next) => {
  const err = (req as Marked)[LANE_ERROR];
  next(err === undefined ? undefined : err);
};

/**
 * The server's request listener. A request `takes` claims (a reference answer this release already
 * made) runs through `steps` — the same middleware instances Express runs, in the same order: the
 * request context, metrics and headers (wrapped in `once`), the token, the rate, the permission,
 * then the answer — without Express's router; everything else, and whatever the steps leave (or
 * raise: it is rendered by Express's one problem handler), goes on into Express. The steps touch
 * only what Node's own request and response have (headers, url, method, setHeader, end, and
 * `res.locals`, set here as Express would).
 */
export function frontDoor(
  app: Express,
  takes: (req: IncomingMessage) => boolean,
  steps: RequestHandler[],
): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!takes(req)) {
      app(req, res);
      return;
    }
    const r = req as Request;
    const s = res as Response;
    s.locals = Object.create(null) as Response['locals'];
    let i = 0;
    const next: NextFunction = (err?: unknown) => {
      if (err !== undefined && err !== 'route' && err !== 'router') {
        (req as Marked)[LANE_ERROR] = err;
        app(req, res);
        return;
      }
      const step = steps[i++];
      if (!step || err !== undefined) {
        app(req, res);
        return;
      }
      try {
        const out = step(r, s, next) as unknown;
        if (out instanceof Promise) out.catch((e: unknown) => next(e ?? new Error('failed')));
      } catch (e) {
        next(e ?? new Error('failed'));
      }
    };
    next();
  };
}
