import { AnswerCache } from '../../src/attack/answer-cache';
import { createLogger } from '../../src/shared/logger';
import type { Graph } from '../../src/shared/neo4j';

// json() needs no database: the graph is only read by start()/refresh().
const cache = (maxBytes: number) =>
  new AnswerCache({} as Graph, createLogger('silent'), maxBytes, 60_000);
const answer = (bytes: number) => async () => ({ text: 'x'.repeat(bytes) });

describe('the answer cache', () => {
  it('stays within its byte budget, dropping the least recently used', async () => {
    const c = cache(100_000);
    let computed = 0;
    const counted = (bytes: number) => async () => {
      computed++;
      return answer(bytes)();
    };
    for (let i = 0; i < 200; i++) await c.json(`/k${i}`, counted(2_000));
    expect(c.size).toBeLessThanOrEqual(100_000);
    expect(c.size).toBeGreaterThan(80_000);
    computed = 0;
    await c.json('/k199', counted(2_000));
    expect(computed).toBe(0);
    await c.json('/k0', counted(2_000));
    expect(computed).toBe(1);
  });

  it('does not keep an answer over a sixteenth of the budget', async () => {
    const c = cache(160_000);
    const body = await c.json('/big', answer(20_000));
    expect(JSON.parse(body.toString()).text).toHaveLength(20_000);
    expect(c.size).toBe(0);
    await c.json('/small', answer(1_000));
    expect(c.size).toBeGreaterThan(1_000);
  });

  it('shares one computation between concurrent requests and forgets failures', async () => {
    const c = cache(1_000_000);
    let calls = 0;
    const slow = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return { ok: true };
    };
    await Promise.all([c.json('/same', slow), c.json('/same', slow), c.json('/same', slow)]);
    expect(calls).toBe(1);
    await expect(c.json('/fails', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(c.json('/fails', async () => ({ ok: 1 }))).resolves.toBeInstanceOf(Buffer);
  });

  it('is empty after invalidate, and a computation that outlived it is not kept', async () => {
    const c = cache(1_000_000);
    let release: () => void = () => undefined;
    const pending = c.json('/late', () => new Promise((r) => (release = () => r({ late: 1 }))));
    await c.json('/a', answer(100));
    c.invalidate();
    expect(c.size).toBe(0);
    release();
    await pending;
    expect(c.size).toBe(0);
  });
});
