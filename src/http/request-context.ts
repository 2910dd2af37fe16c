import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../shared/logger';
import { header, pathOf } from './front-door';

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The current request's id, wherever the code runs within that request. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (the caller's x-request-id when it is sane), echoes it in the response,
 * and logs one line per request when it finishes.
 */
export function requestContext(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = header(req, 'x-request-id');
    const requestId = incoming && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const failed = res.statusCode >= 500;
      // Under load at warn or above, the line is not even built.
      if (!log.isLevelEnabled(failed ? 'error' : 'info')) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        requestId,
        method: req.method,
        path: pathOf(req),
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
      };
      if (failed) log.error(line, 'request failed');
      else log.info(line, 'request');
    });
    storage.run({ requestId }, () => next());
  };
}
