/** The registry's view of requests, application locks, demand and the Dealer (its runs asked of its agent). */
import { type ActorRef, type ActorSystem, ask, type Clock } from "../actors/runtime/mod.ts";
import type { DealerMsg } from "../actors/agents/dealer.ts";
import type { AppLockStore } from "../adapters/db/app_lock_store_port.ts";
import type { DealerHistory } from "../adapters/db/dealer_history_port.ts";
import type { DemandStore } from "../adapters/db/demand_store_port.ts";
import type { RequestStore } from "../adapters/db/request_store_port.ts";
import type { DealerRunSummary } from "../registry/requests/dealer_run.ts";
import type { RequestRegistry } from "../registry/http/request_registry.ts";

export interface RequestRegistryOptions {
  system: ActorSystem;
  /** The agent; null when no Dealer is configured. */
  dealer: () => ActorRef<DealerMsg> | null;
  requests: RequestStore;
  appLocks: AppLockStore;
  demand: DemandStore;
  dealerHistory: DealerHistory;
  clock: Clock;
}

export function requestRegistry(
  { system, dealer, requests, appLocks, demand, dealerHistory, clock }: RequestRegistryOptions,
): RequestRegistry {
  return {
    submitCopy: (user, s) => requests.submitCopy(user, s, clock.now()),
    submitDeletion: (user, s) => requests.submitDeletion(user, s, clock.now()),
    copyRequests: (q) => requests.copyRequests(q),
    deletionRequests: (q) => requests.deletionRequests(q),
    cancelCopy: (id, user) => requests.cancelCopy(id, user, clock.now()),
    lockApp: (lock) => appLocks.lockApp({ ...lock, since: Math.floor(clock.now() / 1000) }),
    unlockApp: (app, user) => appLocks.unlockApp(app, user),
    appLocks: () => appLocks.appLocks(),
    recordJobs: (records) => demand.recordJobs(records),
    dealerConfigured: () => dealer() !== null,
    async runDealer(mode, comment) {
      return await ask<DealerMsg, DealerRunSummary>(
        system,
        dealer()!,
        (replyTo) => ({ type: "run", mode, ...(comment ? { comment } : {}), replyTo }),
        { timeoutMs: 30 * 60_000 },
      );
    },
    dealerCycles: (limit) => dealerHistory.cycles({ limit }),
    dealerDecisions: (f) => dealerHistory.decisions(f),
  };
}
