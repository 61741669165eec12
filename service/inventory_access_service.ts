/**
 * The registry's view of the inventory: snapshots from the publication,
 * submissions through the writer's gateway, the injection queue, users and
 * /metrics. The actors' errors become the edge's UnavailableError.
 */
import { getLogger } from "@logtape/logtape";
import { AskTimeoutError, type Clock } from "../actors/runtime/mod.ts";
import { InventoryBusyError } from "../actors/inventory/inventory_gateway.ts";
import type { InventoryPublication } from "../actors/inventory/publication.ts";
import type { ApplicationTree } from "../actors/tree.ts";
import type { InjectionQueue } from "../adapters/db/injection_queue_port.ts";
import type { UserStore } from "../adapters/db/user_store_port.ts";
import { type InventoryAccess, UnavailableError } from "../registry/http/inventory_access.ts";
import { currentIdempotencyKey } from "./cluster/idempotency_context.ts";
import { abortable, abortAfter, catchUpWaitMs } from "../actors/inventory/replica_wait.ts";

export interface InventoryAccessOptions {
  publication: InventoryPublication;
  tree: ApplicationTree;
  injections: InjectionQueue;
  users: UserStore;
  clock: Clock;
  /** The /metrics text. */
  metrics: () => Promise<string>;
}

export function inventoryAccess(
  { publication, tree, injections, users, clock, metrics }: InventoryAccessOptions,
): InventoryAccess {
  const log = getLogger(["dynamo", "service"]);
  return {
    isReady: () => publication.isReady,
    snapshot: () => publication.snapshot(),
    replicaRead(read, generation, budgetMs, signal) {
      const replica = tree.replicas?.current;
      if (!replica || replica.error) return null; // none runs, or it is being built
      // The generation can move with no journal entry (the writer reloads after a commit of unknown
      // outcome): a replica that does not catch up soon leaves the rest of the budget to the main isolate.
      const waitMs = catchUpWaitMs(budgetMs);
      const timeout = abortAfter(
        clock,
        waitMs,
        `The reader replica did not reach generation ${generation} within ${waitMs} ms`,
      );
      const wait = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
      return replica.caughtUp(generation, wait)
        .finally(timeout.clear)
        .then(() => abortable(replica.query({ kind: "read", read, budgetMs }), signal));
    },
    async submit(submission, signal) {
      try {
        const idempotencyKey = currentIdempotencyKey();
        return await tree.gateway.submit(
          idempotencyKey ? { ...submission, idempotencyKey } : submission,
          signal ? { signal } : {},
        );
      } catch (e) {
        if (e instanceof InventoryBusyError) throw new UnavailableError(e.message, 2);
        if (e instanceof AskTimeoutError) {
          throw new UnavailableError("The inventory writer did not answer in time");
        }
        throw e;
      }
    },
    async enqueueInjection(kind, payload, user) {
      const id = await injections.enqueue(kind, payload, user, clock.now()).catch((e) => {
        log.error("Could not queue an injection: {error}", { error: String(e) }); // the client gets no database text
        throw new UnavailableError("The injection could not be queued; retry later");
      });
      tree.nudgeInjections();
      return id;
    },
    injection: (id) => injections.get(id),
    injections: (filter) => injections.list(filter),
    authenticateToken: (token) => users.authenticateToken(token, clock.now()),
    authenticateDn: (dn) => users.authenticateDn(dn),
    metrics,
    now: () => clock.now(),
  };
}
