import type { Clock } from "../runtime/mod.ts";
import type { ReaderReplica } from "../inventory/reader_replica.ts";
import type { ReplicaSlot } from "../inventory/replica_host.ts";
import { abortAfter } from "../inventory/replica_wait.ts";

/** The replica to decide on, or why the cycle gave up waiting for it. */
export type CaughtUp =
  | { readonly replica: ReaderReplica; readonly waitedMs: number }
  | { readonly error: string; readonly waitedMs: number };

/**
 * The reader replica a Detox or Dealer cycle decides on, once it is built and has
 * applied the generation the writer has published (`generation()`, read when it is
 * ready), waited for at most `waitMs` on the service's clock. Without the bound a
 * replica being rebuilt for longer than the cycle's budget, one that failed, or a
 * generation that moved with no journal entry (the writer reloads after a commit
 * of unknown outcome) would hold the cycle, and the agent's mailbox behind it,
 * until the next write.
 */
export async function replicaCaughtUp(
  slot: ReplicaSlot,
  generation: () => number,
  clock: Clock,
  waitMs: number,
): Promise<CaughtUp> {
  const started = clock.now();
  const timeout = abortAfter(clock, waitMs, `waited ${waitMs} ms`);
  try {
    const replica = await slot.whenReady(timeout.signal);
    const target = generation();
    await replica.caughtUp(target, timeout.signal);
    return { replica, waitedMs: clock.now() - started };
  } catch (e) {
    const waitedMs = clock.now() - started;
    const why = timeout.signal.aborted
      ? `it was not built and caught up with the writer within ${waitMs / 1000} s`
      : `it failed: ${e instanceof Error ? e.message : String(e)}`;
    return { error: `Not decided on the reader replica: ${why}`, waitedMs };
  } finally {
    timeout.clear();
  }
}
