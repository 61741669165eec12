import { injectionToCommands, invalidationToCommands } from "../../registry/inventory/mod.ts";
import { InventoryValidationError } from "../../registry/inventory/mod.ts";
import type { InjectionQueue } from "../../adapters/db/injection_queue_port.ts";
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
      const submissions: Promise<void>[] = [];
      for (const row of rows) {
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
        state.inFlight.add(row.id);
        submissions.push(
          options.gateway.submit({ commands, atomic: true }, { injectionId: row.id }).then(
            (reply) => {
              if (!reply.ok) {
                ctx.log.warn("Queued injection not applied; will retry", { id: row.id, error: reply.error });
              }
            },
            (error) =>
              ctx.log.warn("Queued injection not applied; will retry", { id: row.id, error: String(error) }),
          ).finally(() => state.inFlight.delete(row.id)),
        );
      }
      // Submitting them together lets the writer commit them in one transaction, in queue order.
      await Promise.all(submissions);
      if (rows.length === limit) ctx.self.tell({ type: "drain" });
      return state;
    },
  };
}
