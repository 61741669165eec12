/**
 * One shared hashed timer wheel for many idle deadlines (docs/architecture.md, virtual
 * actors): a ring of slots, each a set of keys, turned by one periodic tick of
 * its owner. A key sits in exactly one slot; touching it only moves its
 * deadline later, and a slot that comes round re-files the keys whose deadline
 * moved on, so a touch costs O(1) and no timer exists per key. A deadline fires
 * between its time and one tick later.
 */
export interface TimerWheelOptions {
  /** The wheel's resolution: deadlines fire at most this late. */
  tickMs: number;
  /** The longest delay a key is filed for in one go (longer ones go round again). */
  horizonMs: number;
  nowMs: number;
}

interface Entry {
  deadline: number;
  slot: number;
}

export class TimerWheel<K> {
  readonly #tickMs: number;
  readonly #slots: Set<K>[];
  readonly #entries = new Map<K, Entry>();
  /** The tick whose slot fires next. */
  #cursor: number;

  constructor(options: TimerWheelOptions) {
    if (!(options.tickMs > 0) || !(options.horizonMs > 0)) {
      throw new RangeError("tickMs and horizonMs must be > 0");
    }
    this.#tickMs = options.tickMs;
    this.#slots = Array.from({ length: Math.ceil(options.horizonMs / options.tickMs) + 2 }, () => new Set());
    this.#cursor = Math.floor(options.nowMs / options.tickMs) + 1;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Sets the key's deadline (later or earlier), filing it if it was not on the wheel. */
  schedule(key: K, deadlineMs: number): void {
    const entry = this.#entries.get(key);
    if (entry) {
      if (deadlineMs >= entry.deadline) {
        entry.deadline = deadlineMs; // re-filed lazily when its slot comes round
        return;
      }
      this.#slots[entry.slot]!.delete(key);
    }
    const filed = { deadline: deadlineMs, slot: this.#slotFor(deadlineMs) };
    this.#entries.set(key, filed);
    this.#slots[filed.slot]!.add(key);
  }

  cancel(key: K): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#slots[entry.slot]!.delete(key);
    this.#entries.delete(key);
  }

  /** Turns the wheel to `nowMs`; returns the keys whose deadline has passed (removed from the wheel). */
  advance(nowMs: number): K[] {
    const expired: K[] = [];
    const target = Math.floor(nowMs / this.#tickMs);
    // A jump longer than the ring visits each slot once.
    const steps = Math.min(target - this.#cursor + 1, this.#slots.length);
    for (let i = 0; i < steps; i++) {
      const slot = this.#slots[(this.#cursor + i) % this.#slots.length]!;
      for (const key of [...slot]) {
        const entry = this.#entries.get(key)!;
        if (entry.deadline <= nowMs) {
          slot.delete(key);
          this.#entries.delete(key);
          expired.push(key);
          continue;
        }
        const next = this.#slotFor(entry.deadline, target + 1);
        if (next !== entry.slot) {
          slot.delete(key);
          entry.slot = next;
          this.#slots[next]!.add(key);
        }
      }
    }
    if (target + 1 > this.#cursor) this.#cursor = target + 1;
    return expired;
  }

  #slotFor(deadlineMs: number, cursor = this.#cursor): number {
    const tick = Math.max(Math.ceil(deadlineMs / this.#tickMs), cursor);
    // Beyond the ring: file at its far end, re-filed when it comes round.
    const bounded = Math.min(tick, cursor + this.#slots.length - 1);
    return bounded % this.#slots.length;
  }
}
