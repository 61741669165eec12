import { setImmediate } from "node:timers";

/**
 * Time, randomness and identifiers are injected everywhere (docs/architecture.md, Principles).
 * This module is the only place outside the composition root that touches the
 * real clock and real timers; everything else receives a `Clock`.
 */

/** Opaque handle returned by `Clock.setTimer`. */
export type TimerHandle = number | ReturnType<typeof setTimeout>;

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The wall clock with real timers. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    return setTimeout(fn, Math.max(0, ms));
  }
  clearTimer(handle: TimerHandle): void {
    clearTimeout(handle as number);
  }
}

/** Resolves after `ms` on the given clock; rejects with the signal's reason when aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimer(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Yields to the event loop (a macrotask turn) so that I/O callbacks can run.
 * Not a delay: it does not depend on any clock.
 */
export function yieldToEventLoop(): Promise<void> {
  // setImmediate runs after pending I/O callbacks without setTimeout's clamping.
  return new Promise((resolve) => setImmediate(resolve));
}

/** A seeded pseudo-random generator (decisions must be reproducible from a seed). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** xoshiro128** — small, fast, and good enough for weighted choices and shuffles. */
export class SeededRng implements Rng {
  #s: Uint32Array;

  constructor(seed: number) {
    // splitmix32 expands the seed into four non-zero state words.
    this.#s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.#s.every((w) => w === 0)) this.#s[0] = 1;
  }

  next(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2] = (s[2]! ^ s[0]!) >>> 0;
    s[3] = (s[3]! ^ s[1]!) >>> 0;
    s[1] = (s[1]! ^ s[2]!) >>> 0;
    s[0] = (s[0]! ^ s[3]!) >>> 0;
    s[2] = (s[2]! ^ t) >>> 0;
    s[3] = rotl(s[3]!, 11);
    return result / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Source of unique identifiers (request ids, ask reply addresses). */
export interface IdGen {
  next(prefix?: string): string;
}

/** Sequential ids: deterministic, unique within one process. */
export class SequentialIdGen implements IdGen {
  #n = 0;
  next(prefix = "id"): string {
    this.#n += 1;
    return `${prefix}-${this.#n}`;
  }
}
