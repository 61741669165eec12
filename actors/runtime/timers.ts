import type { Clock, TimerHandle } from "./clock.ts";
import type { Timers } from "./types.ts";

/**
 * Keyed timers for one actor incarnation. Starting a timer under a key that is
 * already active replaces it. A timer delivers its message through `deliver`,
 * which the cell wires to its own mailbox.
 */
export class KeyedTimers<M> implements Timers<M> {
  #active = new Map<string, TimerHandle>();
  #closed = false;

  constructor(private readonly clock: Clock, private readonly deliver: (msg: M) => void) {}

  startSingle(key: string, delayMs: number, msg: M): void {
    this.cancel(key);
    if (this.#closed) return;
    const handle = this.clock.setTimer(delayMs, () => {
      if (this.#active.get(key) !== handle) return;
      this.#active.delete(key);
      this.deliver(msg);
    });
    this.#active.set(key, handle);
  }

  startPeriodic(key: string, intervalMs: number, msg: M): void {
    if (!(intervalMs > 0)) throw new RangeError(`Timer interval must be positive, got ${intervalMs}`);
    this.cancel(key);
    if (this.#closed) return;
    const arm = () => {
      const handle = this.clock.setTimer(intervalMs, () => {
        if (this.#active.get(key) !== handle) return;
        arm();
        this.deliver(msg);
      });
      this.#active.set(key, handle);
    };
    arm();
  }

  cancel(key: string): void {
    const handle = this.#active.get(key);
    if (handle === undefined) return;
    this.clock.clearTimer(handle);
    this.#active.delete(key);
  }

  isActive(key: string): boolean {
    return this.#active.has(key);
  }

  cancelAll(): void {
    for (const handle of this.#active.values()) this.clock.clearTimer(handle);
    this.#active.clear();
  }

  /** Cancels everything and refuses new timers (the incarnation is over). */
  close(): void {
    this.cancelAll();
    this.#closed = true;
  }
}
