import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { AnswerCache } from '../../src/attack/answer-cache';
import * as ptr from 'path-to-regexp';
import { notModified, preferredCoding } from '../../src/http/conditional';
import { compileRoutePatternsOnce } from '../../src/http/route-patterns';
import { createLogger } from '../../src/shared/logger';
import type { Graph } from '../../src/shared/neo4j';

/** A graph that answers only the data-version query, with a version the test sets. */
function versioned(initial: string) {
  const graph = {
    version: initial,
    read: async () => [{ version: [graph.version] }],
  };
  return graph;
}

async function cache(maxBytes: number, graph = versioned('enterprise-attack@1')) {
  const c = new AnswerCache(graph as unknown as Graph, createLogger('silent'), maxBytes, 60_000);
  await c.refresh();
  return c;
}
const answer = (bytes: number) => async () => ({ text: 'x'.repeat(bytes) });
const ROUTE = '/api/v1/mitre/techniques/{id}/';

describe('the answer cache', () => {
  it('stays within its byte budget, dropping the least recently used', async () => {
    const c = await cache(100_000);
    let computed = 0;
    const counted = (bytes: number) => async () => {
      computed++;
      return answer(bytes)();
    };
    for (let i = 0; i < 200; i++) await c.answer(`/k${i}`, ROUTE, counted(2_000));
    expect(c.size).toBeLessThanOrEqual(100_000);
    expect(c.size).toBeGreaterThan(80_000);
    computed = 0;
    await c.answer('/k199', ROUTE, counted(2_000));
    expect(computed).toBe(0);
    await c.answer('/k0', ROUTE, counted(2_000));
    expect(computed).toBe(1);
  });

  it('counts compressed forms in the budget and makes each once', async () => {
    const c = await cache(10_000_000);
    const a = await c.answer('/big', ROUTE, answer(50_000));
    const before = c.size;
    const [br1, br2] = await Promise.all([a.encoded('br'), a.encoded('br')]);
    expect(br1).toBe(br2);
    const gz = await a.encoded('gzip');
    expect(JSON.parse(brotliDecompressSync(br1).toString()).text).toHaveLength(50_000);
    expect(JSON.parse(gunzipSync(gz).toString()).text).toHaveLength(50_000);
    expect(c.size).toBe(before + br1.length + gz.length);
  });

  it('does not keep an answer over a sixteenth of the budget, but remembers its tag', async () => {
    const c = await cache(160_000);
    const body = await c.answer('/big', ROUTE, answer(20_000));
    expect(JSON.parse(body.body.toString()).text).toHaveLength(20_000);
    expect(c.size).toBe(0);
    const known = c.known('/big');
    expect(known).toMatchObject({ tag: body.tag, route: ROUTE, size: body.body.length });
    expect(known?.stored).toBeUndefined();
    await c.answer('/small', ROUTE, answer(1_000));
    expect(c.size).toBeGreaterThan(1_000);
    expect(c.known('/small')?.stored?.body.length).toBeGreaterThan(1_000);
  });

  it('remembers tags within an eighth of its budget, however long the URLs callers choose', async () => {
    const c = await cache(160_000);
    const long = (i: number) => `/api/v1/mitre/techniques/?search=${'a'.repeat(4_000)}${i}`;
    for (let i = 0; i < 20; i++) await c.answer(long(i), ROUTE, answer(10));
    expect(c.tagSize).toBeLessThanOrEqual(160_000 / 8);
    expect(c.known(long(0))).toBeDefined();
    expect(c.known(long(19))).toBeUndefined();
    // Not remembered means computed again, not wrong: the answer is still given.
    await expect(c.answer(long(19), ROUTE, answer(10))).resolves.toMatchObject({ route: ROUTE });
  });

  it('tags an answer by build, data version and URL: stable within a release, new after it', async () => {
    const graph = versioned('enterprise-attack@1');
    const c = await cache(1_000_000, graph);
    const other = await cache(1_000_000, versioned('enterprise-attack@1'));
    const a = await c.answer('/a', ROUTE, answer(10));
    expect(a.tag).toMatch(/^[A-Za-z0-9_-]{27}$/);
    // Another replica of the same build on the same data gives the same tag.
    expect((await other.answer('/a', ROUTE, answer(10))).tag).toBe(a.tag);
    expect((await c.answer('/b', ROUTE, answer(10))).tag).not.toBe(a.tag);
    graph.version = 'enterprise-attack@2';
    await c.refresh();
    expect(c.known('/a')).toBeUndefined();
    expect((await c.answer('/a', ROUTE, answer(10))).tag).not.toBe(a.tag);
  });

  it('shares one computation between concurrent requests and forgets failures', async () => {
    const c = await cache(1_000_000);
    let calls = 0;
    const slow = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return { ok: true };
    };
    await Promise.all([
      c.answer('/same', ROUTE, slow),
      c.answer('/same', ROUTE, slow),
      c.answer('/same', ROUTE, slow),
    ]);
    expect(calls).toBe(1);
    await expect(
      c.answer('/fails', ROUTE, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(c.known('/fails')).toBeUndefined();
    await expect(c.answer('/fails', ROUTE, async () => ({ ok: 1 }))).resolves.toMatchObject({
      route: ROUTE,
    });
  });

  it('tags nothing between a local import and reading the new version, then warms the hot answers', async () => {
    const graph = versioned('enterprise-attack@1');
    const c = await cache(1_000_000, graph);
    let release: () => void = () => undefined;
    const pending = c.answer(
      '/late',
      ROUTE,
      () => new Promise((r) => (release = () => r({ l: 1 }))),
    );
    let computed = 0;
    const hot = async () => ({ n: ++computed, pad: 'y'.repeat(2_000) });
    await c.answer('/hot', ROUTE, hot);
    for (let i = 0; i < 5; i++) c.known('/hot');
    await c.answer('/cold', ROUTE, answer(100));
    graph.version = 'enterprise-attack@2';
    c.invalidate();
    expect(c.size).toBe(0);
    // Made before the new version is read: answered, but neither tagged nor kept.
    const meanwhile = await c.answer('/x', ROUTE, answer(10));
    expect(meanwhile.tag).toBeNull();
    release();
    await pending;
    await c.warming;
    expect(computed).toBe(2);
    const warmed = c.known('/hot');
    expect(warmed?.stored).toBeDefined();
    // Warming made its encodings too: serving them computes nothing more.
    const size = c.size;
    await warmed?.stored?.encoded('br');
    expect(c.size).toBe(size);
    expect(c.known('/late')).toBeUndefined();
  });
});

describe('content negotiation and revalidation', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['gzip, deflate, br', 'br'],
    ['gzip, deflate', 'gzip'],
    ['br;q=0.5, gzip', 'gzip'],
    ['br;q=0, gzip;q=0', 'identity'],
    ['identity', 'identity'],
    ['*', 'br'],
    ['*;q=0', 'identity'],
    ['x-gzip', 'gzip'],
    ['BR', 'br'],
    ['identity;q=1, gzip;q=0.5', 'identity'],
    ['gzip;q=bogus', 'gzip'],
  ])('Accept-Encoding %p → %s', (header, expected) => {
    expect(preferredCoding(header)).toBe(expected);
  });

  it.each([
    [undefined, false],
    ['"abc"', true],
    ['W/"abc"', true],
    ['"x", "abc"', true],
    ['"abc-br"', false],
    ['*', true],
    ['"ab"', false],
  ])('If-None-Match %p matches "abc": %p', (header, expected) => {
    expect(notModified(header, '"abc"')).toBe(expected);
  });
});

describe('route patterns for the contract validator', () => {
  it('compiles each route once and still matches as path-to-regexp does', () => {
    const fresh = ptr.pathToRegexp('/api/v1/mitre/techniques/:id/', { sensitive: false });
    compileRoutePatternsOnce();
    compileRoutePatternsOnce();
    const a = ptr.pathToRegexp('/api/v1/mitre/techniques/:id/', { sensitive: false });
    expect(ptr.pathToRegexp('/api/v1/mitre/techniques/:id/', { sensitive: false })).toBe(a);
    expect(ptr.pathToRegexp('/api/v1/mitre/techniques/:id/', { sensitive: true })).not.toBe(a);
    expect(a.regexp.source).toBe(fresh.regexp.source);
    for (let i = 0; i < 2; i++)
      expect(a.regexp.exec('/api/v1/mitre/techniques/T1059.001/')?.[1]).toBe('T1059.001');
  });
});
