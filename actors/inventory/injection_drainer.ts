import { injectionToCommands, invalidationToCommands } from "../../registry/inventory/mod.ts";
import { InventoryValidationError } from "../../registry/inventory/mod.ts";
import {
  type InjectionQueue,
  MAX_INJECTION_ATTEMPTS,
  type QueuedInjection,
} from "../../adapters/db/injection_queue_port.ts";
import type { Behavior } from "../runtime/mod.ts";
import type { InventoryGateway } from "./inventory_gateway.ts";

export type DrainerMsg = { type: "drain" };

export interface InjectionDrainerOptions {
  queue: InjectionQueue;
  gateway: InventoryGateway;
  /** Safety net besides the explicit nudges after each enqueue. */
  pollMs?: number;
  batch?: number;
}

interface State {
  /** Submitted and not yet answered: never submitted twice by this incarnation. */
  inFlight: Set<number>;
}

/**
 * Feeds queued asynchronous injections (`/inject`, `/delete`) to the inventory
 * writer in queue order, each as one atomic submission. The writer settles the
 * queue row in the same transaction as the inventory change, and skips rows
 * already settled, so a crash here can neither lose nor double an injection.
 *
 * Poison injections: every attempt is counted durably before the submission,
 * so an injection that makes the writer fail (or the process die) is seen
 * again after a restart. A retry is submitted alone, so that a neighbour's
 * failure in the same group commit is not counted against it; an injection
 * whose second attempt fails too is moved aside as `failed` with its error, and
 * the queue goes on.
 */
export function injectionDrainer(options: InjectionDrainerOptions): Behavior<DrainerMsg, State> {
  const pollMs = options.pollMs ?? 5_000;
  const limit = options.batch ?? 100;
  return {
    init(ctx) {
      ctx.timers.startPeriodic("poll", pollMs, { type: "drain" });
      ctx.self.tell({ type: "drain" });
      return { inFlight: new Set() };
    },
    async receive(state, _msg, ctx) {
      const rows = (await options.queue.queued(0, limit)).filter((r) => !state.inFlight.has(r.id));
      let submissions: Promise<void>[] = [];
      for (const row of rows) {
        if (row.attempts >= MAX_INJECTION_ATTEMPTS) {
          // Its last attempt never reported back: the process stopped while applying it.
          const error = row.lastError ?? "the service stopped while applying it";
          await moveAside(row, error);
          continue;
        }
        let commands;
        try {
          commands = row.kind === "inject"
            ? injectionToCommands(row.payload)
            : invalidationToCommands(row.payload);
        } catch (e) {
          // Validated when queued; a row that no longer parses is settled as rejected, not retried forever.
          const reason = e instanceof InventoryValidationError ? e.message : String(e);
          await options.queue.settle(
            [{ id: row.id, status: "rejected", result: { error: reason } }],
            ctx.clock.now(),
          );
          continue;
        }
        const retry = row.attempts > 0;
        if (retry) {
          // Alone: what is in flight settles first, and nothing rides in its batch.
          await Promise.all(submissions);
          submissions = [];
        }
        await options.queue.beginAttempt(row.id, ctx.clock.now());
        state.inFlight.add(row.id);
        const attempt = row.attempts + 1;
        const submission = options.gateway.submit({ commands, atomic: true }, { injectionId: row.id }).then(
          async (reply) => {
            if (!reply.ok) await failed(row, attempt, reply.cause ?? reply.error);
            else if (reply.refused) {
              // A conflicting operation in flight (an invalidation while its dataset is being
              // deleted): nothing applied; settled as rejected with the reason, the queue goes on.
              await options.queue.settle(
                [{ id: row.id, status: "rejected", result: { error: reply.refused } }],
                ctx.clock.now(),
              );
            }
          },
          (error) => failed(row, attempt, String(error)),
        ).finally(() => state.inFlight.delete(row.id));
        if (retry) await submission;
        else submissions.push(submission);
      }
      // Submitting them together lets the writer commit them in one transaction, in queue order.
      await Promise.all(submissions);
      if (rows.length === limit) ctx.self.tell({ type: "drain" });
      return state;

      async function failed(row: QueuedInjection, attempt: number, error: string): Promise<void> {
        if (attempt >= MAX_INJECTION_ATTEMPTS) return await moveAside(row, error);
        ctx.log.warn("Queued injection not applied; will retry it alone", { id: row.id, error });
        await options.queue.recordFailure(row.id, error, false, ctx.clock.now()).catch((e) =>
          ctx.log.warn("Could not record the failure of a queued injection", { id: row.id, error: String(e) })
        );
      }

      async function moveAside(row: QueuedInjection, error: string): Promise<void> {
        ctx.log.error("Queued injection failed twice; moved aside as failed", { id: row.id, error });
        await options.queue.recordFailure(row.id, error, true, ctx.clock.now());
      }
    },
  };
}
