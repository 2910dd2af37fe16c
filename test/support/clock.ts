import type { Clock } from '../../src/shared/clock';

/** A clock that moves only when a test says so: timers fire in due order, one per call. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.now()) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = this.seq++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return () => this.timers.delete(id);
  }

  /** When the pending timers are due, earliest first. */
  pending(): number[] {
    return [...this.timers.values()].map((x) => x.at).sort((a, b) => a - b);
  }

  /** Moves to the earliest pending timer and fires it; the time it fired at. */
  fireNext(): number {
    const [id, timer] = [...this.timers].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
    if (id === undefined || !timer) throw new Error('no timer is pending');
    this.timers.delete(id);
    this.t = Math.max(this.t, timer.at);
    timer.fn();
    return this.t;
  }
}
