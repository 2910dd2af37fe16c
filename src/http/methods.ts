import type { NextFunction, Request, RequestHandler, Response } from 'express';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * HEAD is answered wherever GET is (as GET, without the body: Node's response knows the request
 * was HEAD) and OPTIONS lists the methods of a path of the contract, with no token needed (a
 * browser's preflight carries none).
 */
export function headAndOptions(paths: Record<string, Record<string, unknown>>): RequestHandler {
  const routes = Object.entries(paths).map(([p, item]) => {
    const pattern = p
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    const methods = METHODS.filter((m) => m in item).map((m) => m.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    methods.push('OPTIONS');
    // The same path without its trailing slash is the same path.
    return { re: new RegExp(`^${pattern.replace(/\/$/, '')}/?$`), allow: methods.join(', ') };
  });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'HEAD') {
      req.method = 'GET';
      return next();
    }
    if (req.method !== 'OPTIONS') return next();
    const route = routes.find((r) => r.re.test(req.path));
    if (!route) return next();
    res.setHeader('Allow', route.allow);
    res.status(204).end();
  };
}
