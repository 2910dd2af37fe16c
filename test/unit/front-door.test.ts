import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { frontDoor, frontDoorErrors, header, once, pathOf } from '../../src/http/front-door';

// The server's front door: what it claims runs the given steps without Express; the rest, what the
// steps leave and what they raise go on into Express (which renders the error).
const req = (url: string, headers: Record<string, string | string[]> = {}) =>
  ({ url, method: 'GET', headers }) as unknown as IncomingMessage;
const res = () => ({}) as unknown as ServerResponse;

/** An app that records what reached it, and the error frontDoorErrors hands on. */
function recordingApp() {
  const seen: Array<{ url: string | undefined; error: unknown }> = [];
  const app = ((r: IncomingMessage, s: ServerResponse) => {
    frontDoorErrors(r as Request, s as Response, (err?: unknown) =>
      seen.push({ url: r.url, error: err }),
    );
  }) as unknown as Express;
  return { app, seen };
}

describe('the front door', () => {
  it('reads headers and the path from Node’s own request', () => {
    expect(header(req('/', { 'x-a': ['1', '2'] }), 'x-a')).toBe('1, 2');
    expect(header(req('/', { 'x-a': 'v' }), 'x-a')).toBe('v');
    expect(header(req('/'), 'x-a')).toBeUndefined();
    expect(pathOf(req('/api/v1/mitre/techniques/?limit=5'))).toBe('/api/v1/mitre/techniques/');
    expect(pathOf(req('/healthz'))).toBe('/healthz');
  });

  it('runs a middleware once per request, however many chains it is in', () => {
    let runs = 0;
    const mw = once((_r, _s, next) => {
      runs++;
      next();
    });
    const r = req('/x');
    const next = jest.fn();
    mw(r as Request, res() as Response, next);
    mw(r as Request, res() as Response, next);
    mw(req('/y') as Request, res() as Response, next);
    expect(runs).toBe(2);
    expect(next).toHaveBeenCalledTimes(3);
  });

  it('sends what it does not claim straight to Express, without running the steps', () => {
    const { app, seen } = recordingApp();
    const step = jest.fn();
    frontDoor(app, () => false, [step])(req('/other'), res());
    expect(step).not.toHaveBeenCalled();
    expect(seen).toEqual([{ url: '/other', error: undefined }]);
  });

  it('answers a claimed request in its steps, with res.locals set, and Express never sees it', async () => {
    const { app, seen } = recordingApp();
    const order: string[] = [];
    const steps: RequestHandler[] = [
      (_r, s, next) => {
        order.push(`sync ${typeof s.locals}`);
        next();
      },
      async (_r: Request, _s: Response, next: NextFunction) => {
        await Promise.resolve();
        order.push('async');
        next();
      },
      () => {
        order.push('answered');
      },
    ];
    frontDoor(app, () => true, steps)(req('/stored'), res());
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['sync object', 'async', 'answered']);
    expect(seen).toEqual([]);
  });

  it('hands Express what the steps leave, and what they raise (thrown or rejected) as its error', async () => {
    const { app, seen } = recordingApp();
    const left = new Error('left');
    frontDoor(app, () => true, [(_r, _s, next) => next()])(req('/left'), res());
    frontDoor(app, () => true, [
      () => {
        throw left;
      },
    ])(req('/thrown'), res());
    frontDoor(app, () => true, [() => Promise.reject(new Error('rejected'))])(
      req('/rejected'),
      res(),
    );
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([
      { url: '/left', error: undefined },
      { url: '/thrown', error: left },
      { url: '/rejected', error: new Error('rejected') },
    ]);
  });
});
