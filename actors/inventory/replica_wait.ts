/**
 * How long a heavy read waits for the reader replica to reach the request's
 * generation, and the abort plumbing around that wait and the query: neither
 * outlives the request's budget or its client. The Detox and Dealer cycles bound
 * their wait with the same timer (`actors/agents/replica_catch_up.ts`).
 */
import type { Clock } from "../runtime/mod.ts";

/** The longest wait for the replica to catch up, whatever the budget. */
export const CATCH_UP_LIMIT_MS = 10_000;

/** Half the remaining budget (the other half is the main isolate's), at most `CATCH_UP_LIMIT_MS`. */
export function catchUpWaitMs(budgetMs: number): number {
  if (!(budgetMs > 0)) return 0;
  return Math.min(budgetMs / 2, CATCH_UP_LIMIT_MS);
}

/** A signal that aborts with `why` after `ms` on the clock; `clear` drops the timer once nobody waits. */
export function abortAfter(
  clock: Clock,
  ms: number,
  why: string,
): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const reason = new Error(why);
  if (ms <= 0) {
    controller.abort(reason);
    return { signal: controller.signal, clear: () => {} };
  }
  const handle = clock.setTimer(ms, () => controller.abort(reason));
  return { signal: controller.signal, clear: () => clock.clearTimer(handle) };
}

/** `promise`, or a rejection with the signal's reason once it aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
