import type { NextFunction, Request, Response } from 'express';
import {
  AppError,
  BadRequestError,
  NotFoundError,
  NotLoadedError,
  PayloadTooLargeError,
  TooManyRequestsError,
  UnauthorizedError,
} from '../shared/errors';
import type { Logger } from '../shared/logger';
import { currentRequestId } from './request-context';

/** RFC 9457 problem details, as every error of this API is answered. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: Array<{ path?: string; message: string; code?: string }>;
  request_id?: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * One problem type per status for what the validator and the body parser raise, the same as the
 * AppErrors of that status: a client tells "no route" from "no such object" by detail, not type.
 */
const TYPES: Record<number, string> = {
  400: new BadRequestError('').type,
  404: new NotFoundError('').type,
  405: 'https://ttpgraph.dev/problems/method-not-allowed',
  413: new PayloadTooLargeError('').type,
  415: 'https://ttpgraph.dev/problems/unsupported-media-type',
};

interface ValidatorError {
  status: number;
  message?: string;
  errors?: Array<{ path?: string; message?: string; errorCode?: string }>;
  headers?: Record<string, string>;
}

interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

function isValidatorError(err: unknown): err is ValidatorError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as ValidatorError).status === 'number' &&
    Array.isArray((err as ValidatorError).errors)
  );
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as BodyParserError).expose === true &&
    typeof ((err as BodyParserError).status ?? (err as BodyParserError).statusCode) === 'number'
  );
}

function bodyParserDetail(e: BodyParserError): string {
  switch (e.type) {
    case 'entity.too.large':
      return 'the request body is over the configured size limit';
    case 'entity.parse.failed':
      return 'the request body is not valid JSON';
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return 'the request body has an unsupported encoding';
    case undefined:
      // body-parser passes decompression errors on without a type of their own.
      return 'the request body could not be read (does it match its Content-Encoding?)';
    default:
      return 'the request body could not be read';
  }
}

function hasBody(req: Request): boolean {
  return req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
}

/**
 * The one mapper from anything thrown to problem+json. AppErrors and the validator's and body
 * parser's errors say what is wrong; anything else is a bare 500 with no internals.
 */
export function problemHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let problem: Problem;
    if (err instanceof AppError) {
      problem = { type: err.type, title: err.title, status: err.status, detail: err.message };
      if (err instanceof TooManyRequestsError)
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
      // The first sync takes about a minute: worth asking again then.
      if (err instanceof NotLoadedError) res.setHeader('Retry-After', '30');
      if (err instanceof UnauthorizedError) {
        res.setHeader(
          'WWW-Authenticate',
          `Bearer realm="ttpgraph", error="invalid_token", error_description="${err.message.replace(/"/g, "'")}"`,
        );
      }
      const details = err.details as { issues?: unknown[]; errors?: unknown[] } | undefined;
      if (Array.isArray(details?.errors)) {
        problem.errors = (
          details.errors as Array<{ index?: number; path: string; message: string }>
        )
          .slice(0, 1000)
          .map((e) => ({
            path: e.index === undefined ? e.path : `/items/${e.index}/${e.path}`,
            message: e.message,
          }));
      } else if (Array.isArray(details?.issues)) {
        problem.errors = (
          details.issues as Array<{ object: string; path: string; message: string }>
        )
          .slice(0, 100)
          .map((i) => ({
            path: `${i.object}${i.path ? `.${i.path}` : ''}`,
            message: i.message,
          }));
      }
    } else if (isValidatorError(err) && err.status === 415 && !hasBody(req)) {
      // The validator calls a missing body an unsupported media type: it is a missing body.
      problem = {
        type: TYPES[400] as string,
        title: 'Bad Request',
        status: 400,
        detail: 'this operation needs a request body',
      };
    } else if (isValidatorError(err) && err.status >= 400 && err.status < 500) {
      problem = {
        type: TYPES[err.status] ?? 'about:blank',
        title: TITLES[err.status] ?? 'Bad Request',
        status: err.status,
        // The validator's 404 is a path outside the contract: said as the app's own "no route".
        detail:
          err.status === 404
            ? `no route for ${req.method} ${req.path}`
            : (err.message ?? TITLES[err.status]),
        errors: err.errors?.map((e) => ({
          path: e.path,
          message: e.message ?? 'invalid',
          code: e.errorCode,
        })),
      };
      for (const [k, v] of Object.entries(err.headers ?? {})) res.setHeader(k, v);
    } else if (isBodyParserError(err)) {
      const status = err.status ?? err.statusCode ?? 400;
      problem = {
        type: TYPES[status] ?? 'about:blank',
        title: TITLES[status] ?? 'Bad Request',
        status,
        detail: bodyParserDetail(err),
      };
    } else {
      log.error({ err, requestId: currentRequestId() }, 'unhandled error');
      problem = { type: 'about:blank', title: 'Internal Server Error', status: 500 };
    }
    // 503 is a state the service is in (Neo4j away, nothing loaded yet), not a fault of its own.
    if (problem.status >= 500 && err instanceof AppError)
      log[problem.status === 503 ? 'warn' : 'error'](
        { err: err.message, requestId: currentRequestId() },
        'request failed',
      );
    problem.instance = req.originalUrl.split('?')[0];
    const requestId = currentRequestId();
    if (requestId) problem.request_id = requestId;
    if (res.headersSent) return;
    if (!req.complete) {
      // A body nobody will read (a wrong path, a refused request): close rather than drain it.
      res.setHeader('Connection', 'close');
      res.once('finish', () => req.socket.destroy());
    }
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  };
}
