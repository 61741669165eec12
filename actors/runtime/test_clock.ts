import type { Clock, TimerHandle } from "./clock.ts";

interface PendingTimer {
  handle: TimerHandle;
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A virtual clock for tests: time moves only when `advance` is called, and due
 * timers fire in time order (ties in creation order). Timers created by a
 * firing timer are honoured within the same `advance` if they fall due.
 */
export class TestClock implements Clock {
  #now: number;
  #timers = new Map<TimerHandle, PendingTimer>();
  #nextHandle = 1;
  #seq = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const handle = this.#nextHandle++;
    this.#timers.set(handle, { handle, at: this.#now + Math.max(0, ms), seq: this.#seq++, fn });
    return handle;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle);
  }

  /** Number of timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order.
   * Awaits a microtask turn after each timer so that actors can react
   * (tell → mailbox) before later timers fire.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#earliestDue(target);
      if (!due) break;
      this.#timers.delete(due.handle);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
      await Promise.resolve();
    }
    this.#now = target;
  }

  #earliestDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.#timers.values()) {
      if (t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
