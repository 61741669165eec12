/**
 * Scheduled cycles of an agent (Detox, Dealer) in an actor of their own whose
 * mailbox holds one tick and drops the oldest: ticks that arrive while a long
 * cycle runs collapse into one, instead of piling up behind it (docs/architecture.md).
 * The agent's own mailbox keeps the requests (which must not be dropped), and
 * a `CycleLock` shared by both keeps their cycles from overlapping.
 */
import type { Behavior, Logger, MailboxOptions } from "../runtime/mod.ts";

/** A tick may be dropped: the next one does the same work. */
export const TICK_MAILBOX: MailboxOptions = { capacity: 1, overflow: "drop_oldest" };

export type TickMsg = { type: "tick" };

/** One cycle at a time per agent, whichever mailbox asked for it. */
export class CycleLock {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(cycle: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(cycle);
    this.#tail = result.catch(() => {});
    return result;
  }
}

export interface CycleTickerOptions {
  intervalMs: number;
  lock: CycleLock;
  /** The scheduled work (the agent's "tick"). */
  cycle: (log: Logger) => Promise<void>;
}

export function cycleTicker(options: CycleTickerOptions): Behavior<TickMsg, null> {
  return {
    init(ctx) {
      // 0: ticks only when told (nudges coalesced by the mailbox of one).
      if (options.intervalMs > 0) ctx.timers.startPeriodic("cycle", options.intervalMs, { type: "tick" });
      return null;
    },
    async receive(state, _msg, ctx) {
      await options.lock.run(() => options.cycle(ctx.log));
      return state;
    },
  };
}
