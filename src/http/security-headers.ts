import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { pathOf } from './front-door';

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
// Swagger UI: its own scripts and styles (some inline styles), images as data: URIs, and calls to
// this API (connect-src) for "Try it out".
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The console: its own script and stylesheet, calls to this API, framed only where allowed. */
function consoleContentPolicy(frameAncestors: string[]): string {
  const ancestors = frameAncestors.length > 0 ? frameAncestors.join(' ') : "'none'";
  return (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    `connect-src 'self'; frame-ancestors ${ancestors}; base-uri 'none'; form-action 'self'`
  );
}

/**
 * Headers for a JSON API that browsers may reach (and its Swagger UI): no sniffing, no framing,
 * no referrer, nothing loaded from elsewhere; HSTS when the public URL is https. Answers are not
 * stored by any cache unless a route says otherwise.
 */
export function securityHeaders(opts: {
  docsPath: string;
  consolePath: string;
  https: boolean;
  /** Origins that may frame the console (an embedding SOC platform); none when empty. */
  consoleFrameAncestors: string[];
}): RequestHandler {
  const embeddable = opts.consoleFrameAncestors.length > 0;
  const consoleCsp = consoleContentPolicy(opts.consoleFrameAncestors);
  return (req: Request, res: Response, next: NextFunction) => {
    const path = pathOf(req);
    const inConsole = path === opts.consolePath || path.startsWith(`${opts.consolePath}/`);
    for (const [name, value] of FIXED) {
      if (!(inConsole && embeddable && name === 'X-Frame-Options')) res.setHeader(name, value);
    }
    res.setHeader(
      'Content-Security-Policy',
      inConsole ? consoleCsp : path.startsWith(opts.docsPath) ? DOCS_CSP : API_CSP,
    );
    res.setHeader('Cache-Control', 'no-store');
    if (opts.https) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    next();
  };
}

const FIXED = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
] as const;

/** The headers above that describe a document, not its caching (a 304 leaves them out). */
export const SECURITY_HEADER_NAMES = [
  ...FIXED.map(([name]) => name),
  'Content-Security-Policy',
  'Strict-Transport-Security',
];
