/**
 * Time as the scheduler sees it: now, and a timer that can be cancelled. The service runs on the
 * system clock; tests drive a manual one, so schedules and backoff are checked without waiting.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once `ms` have passed; the returned function cancels it. Never keeps the process up. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  },
};
