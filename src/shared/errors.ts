/**
 * The errors ttpgraph raises on purpose. Each carries the HTTP status it maps to and a stable
 * problem type; entry points (HTTP mapper, CLI) turn them into their own form in one place.
 */
export class AppError extends Error {
  readonly status: number = 500;
  readonly type: string = 'about:blank';
  readonly title: string = 'Internal Server Error';
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  override readonly status = 400;
  override readonly type = 'https://ttpgraph.dev/problems/bad-request';
  override readonly title = 'Bad Request';
}

/** A STIX bundle (or its transport) is not what it claims to be. */
export class InvalidBundleError extends AppError {
  override readonly status = 422;
  override readonly type = 'https://ttpgraph.dev/problems/invalid-bundle';
  override readonly title = 'Invalid STIX bundle';
}

/** The source of a bundle could not be read (network, HTTP status, file system). */
export class SourceError extends AppError {
  override readonly status = 502;
  override readonly type = 'https://ttpgraph.dev/problems/source-unavailable';
  override readonly title = 'Source unavailable';
}

/** No valid credentials: answered with a WWW-Authenticate challenge. */
export class UnauthorizedError extends AppError {
  override readonly status = 401;
  override readonly type = 'https://ttpgraph.dev/problems/unauthorized';
  override readonly title = 'Unauthorized';
}

export class ForbiddenError extends AppError {
  override readonly status = 403;
  override readonly type = 'https://ttpgraph.dev/problems/forbidden';
  override readonly title = 'Forbidden';
  constructor(message = 'your roles do not allow this operation', details?: unknown) {
    super(message, details);
  }
}

/** Well-formed but invalid input (a mapping to an unknown technique); `details.errors` lists each. */
export class UnprocessableError extends AppError {
  override readonly status = 422;
  override readonly type = 'https://ttpgraph.dev/problems/unprocessable';
  override readonly title = 'Unprocessable Content';
}

/** A body or bundle over a configured size, before or after decompression. */
export class PayloadTooLargeError extends AppError {
  override readonly status = 413;
  override readonly type = 'https://ttpgraph.dev/problems/too-large';
  override readonly title = 'Content Too Large';
}

/** Over the caller's rate limit: answered with Retry-After. */
export class TooManyRequestsError extends AppError {
  override readonly status = 429;
  override readonly type = 'https://ttpgraph.dev/problems/rate-limited';
  override readonly title = 'Too Many Requests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class ConflictError extends AppError {
  override readonly status = 409;
  override readonly type: string = 'https://ttpgraph.dev/problems/conflict';
  override readonly title = 'Conflict';
}

/** A release older than the one a domain holds: never applied by a sync (see downgradeTo). */
export class OlderReleaseError extends ConflictError {
  override readonly type: string = 'https://ttpgraph.dev/problems/older-release';
}

export class NotFoundError extends AppError {
  override readonly status = 404;
  override readonly type = 'https://ttpgraph.dev/problems/not-found';
  override readonly title = 'Not Found';
}

export class NotSupportedError extends AppError {
  override readonly status = 501;
  override readonly type = 'https://ttpgraph.dev/problems/not-supported';
  override readonly title = 'Not Supported';
}

/** No ATT&CK release is in the graph yet (the first sync has not applied one). */
export class NotLoadedError extends AppError {
  override readonly status = 503;
  override readonly type = 'https://ttpgraph.dev/problems/not-loaded';
  override readonly title = 'Service Unavailable';
}

/** The graph database cannot be reached or started. */
export class DatabaseUnavailableError extends AppError {
  override readonly status = 503;
  override readonly type = 'https://ttpgraph.dev/problems/database-unavailable';
  override readonly title = 'Database unavailable';
}
