import * as pathToRegexpModule from 'path-to-regexp';

type Compile = typeof pathToRegexpModule.pathToRegexp;

/**
 * express-openapi-validator (5.6) finds a request's operation by compiling every route of the
 * contract with path-to-regexp on every request until one matches: ~3 µs each, ~200 µs a request
 * for routes late in the contract. Compilation is pure, so each (route, options) is compiled once;
 * the validator reads the function from the module's exports at each call, so it gets this one.
 */
export function compileRoutePatternsOnce(): void {
  // The module is CommonJS with __esModule set: the namespace is its exports object itself.
  const exports = pathToRegexpModule as unknown as { pathToRegexp: Compile & { memoized?: true } };
  if (exports.pathToRegexp.memoized) return;
  const compile = exports.pathToRegexp;
  const compiled = new Map<string, ReturnType<Compile>>();
  const memoized = ((path, options) => {
    if (typeof path !== 'string') return compile(path, options);
    const key = `${path}\0${JSON.stringify(options ?? {})}`;
    let hit = compiled.get(key);
    if (!hit) {
      hit = compile(path, options);
      compiled.set(key, hit);
    }
    return hit;
  }) as Compile & { memoized?: true };
  memoized.memoized = true;
  exports.pathToRegexp = memoized;
}
