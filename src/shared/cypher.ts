import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from './paths';

/** Cypher text by name (`attack/upsert-nodes` for `cypher/attack/upsert-nodes.cypher`). */
export type QuerySet<N extends string> = Readonly<Record<N, string>>;

let cache: Map<string, string> | undefined;
const names = new Map<string, string>();

const FRAGMENTS = 'fragments/';

/**
 * `@name(var)` in a query stands for `cypher/fragments/name.cypher` with `<x>` replaced by `var`:
 * a predicate several queries share (who may read what) is written once; fragments may use
 * fragments. A query naming a fragment that does not exist fails to load.
 */
function expandFragments(
  text: string,
  fragments: Map<string, string>,
  name: string,
  depth = 0,
): string {
  // A fragment may use others; a cycle would never end.
  if (depth > 4) throw new Error(`${name}.cypher: fragments nested too deep (a cycle?)`);
  return text.replace(/@([a-z][a-z-]*)\((\w+)\)/g, (_all, fragment: string, variable: string) => {
    const body = fragments.get(fragment);
    if (body === undefined) throw new Error(`${name}.cypher names a missing fragment @${fragment}`);
    return expandFragments(body.replace(/<x>/g, variable), fragments, name, depth + 1);
  });
}

function allQueries(): Map<string, string> {
  if (cache) return cache;
  const root = path.join(packageRoot(), 'cypher');
  const raw = new Map<string, string>();
  for (const entry of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.cypher')) continue;
    const name = entry.slice(0, -'.cypher'.length).split(path.sep).join('/');
    raw.set(name, readFileSync(path.join(root, entry), 'utf8'));
  }
  const fragments = new Map<string, string>();
  for (const [name, text] of raw)
    if (name.startsWith(FRAGMENTS))
      fragments.set(name.slice(FRAGMENTS.length), text.replace(/^\s*\/\/.*\n/gm, '').trim());
  const found = new Map<string, string>();
  for (const [name, text] of raw) {
    if (name.startsWith(FRAGMENTS)) continue;
    const expanded = expandFragments(text, fragments, name);
    found.set(name, expanded);
    names.set(expanded, name);
  }
  return (cache = found);
}

/**
 * Loads the named queries, failing at once on a missing file: data-access modules call this when
 * they are constructed, so a missing query stops start-up instead of a request.
 */
export function loadQueries<N extends string>(names: readonly N[]): QuerySet<N> {
  const all = allQueries();
  const missing = names.filter((n) => !all.has(n));
  if (missing.length > 0) {
    throw new Error(
      `missing Cypher files under cypher/: ${missing.map((m) => `${m}.cypher`).join(', ')}`,
    );
  }
  return Object.fromEntries(names.map((n) => [n, all.get(n) as string])) as QuerySet<N>;
}

/** The name a query was loaded under, for metrics and logs; `inline` for any other text. */
export function queryName(text: string): string {
  allQueries();
  return names.get(text) ?? 'inline';
}

/** Splits a file of several statements (schema.cypher) on `;` at line ends. */
export function statements(text: string): string[] {
  return text
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/^\s*\/\/.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}
