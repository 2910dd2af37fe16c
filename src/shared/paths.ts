import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

let cachedRoot: string | undefined;

/**
 * The package root, found by walking up to ttpgraph's package.json: the same code runs from
 * `src/` (tests) and `dist/src/` (built), and `cypher/` and `neo4j/` are not copied by tsc.
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === 'ttpgraph') return (cachedRoot = dir);
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`ttpgraph package root not found above ${__dirname}`);
    dir = parent;
  }
}

/** This build's version (package.json), as the CLI, backups and answer tags name it. */
export function packageVersion(): string {
  const manifest = path.join(packageRoot(), 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
