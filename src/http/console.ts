import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';
import { packageRoot } from '../shared/paths';

export const CONSOLE_PATH = '/console';
const YEAR = 365 * 24 * 3600;

/**
 * The web console's static files (built by `npm run build` into dist/console): assets named by
 * their content's hash are kept by browsers for a year; index.html is revalidated on each use, so
 * a new build is seen at once. Without a build, /console/ says how to make one.
 */
export function consoleRouter(): Router {
  const dir = path.join(packageRoot(), 'dist', 'console');
  const router = express.Router();
  router.get('/', (req, res, next) => {
    // Relative asset URLs need the trailing slash.
    if (!req.originalUrl.split('?')[0]?.endsWith('/')) {
      res.redirect(301, `${CONSOLE_PATH}/`);
      return;
    }
    if (!existsSync(path.join(dir, 'index.html'))) {
      res.status(404).type('text/plain').send('the console is not built: run npm run build');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(path.join(dir, 'index.html'), (err) => err && next(err));
  });
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), {
      index: false,
      fallthrough: false,
      setHeaders: (res) => res.setHeader('Cache-Control', `public, max-age=${YEAR}, immutable`),
    }),
  );
  return router;
}
