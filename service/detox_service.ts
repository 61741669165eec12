/** The registry's view of Detox: runs asked of its agent, history, locks and accesses from their stores. */
import { type ActorRef, type ActorSystem, ask, type Clock } from "../actors/runtime/mod.ts";
import type { DetoxMsg } from "../actors/agents/detox.ts";
import type { AccessStore } from "../adapters/db/access_store_port.ts";
import type { DetoxHistory } from "../adapters/db/detox_history_port.ts";
import type { LockStore } from "../adapters/db/lock_store_port.ts";
import type { DetoxRunSummary } from "../registry/requests/detox_run.ts";
import type { DetoxRegistry } from "../registry/http/detox_registry.ts";

export interface DetoxRegistryOptions {
  system: ActorSystem;
  /** The agent; null when no policy is configured. */
  agent: () => ActorRef<DetoxMsg> | null;
  history: DetoxHistory;
  locks: LockStore;
  accesses: AccessStore;
  clock: Clock;
}

export function detoxRegistry(
  { system, agent, history, locks, accesses, clock }: DetoxRegistryOptions,
): DetoxRegistry {
  return {
    configured: () => agent() !== null,
    async run(request) {
      const ref = agent();
      if (!ref) return { error: "No Detox policy is configured" };
      return await ask<DetoxMsg, DetoxRunSummary[] | { error: string }>(
        system,
        ref,
        (replyTo) => ({ type: "run", request, replyTo }),
        {
          timeoutMs: 30 * 60_000,
        },
      );
    },
    cycles: (f) => history.cycles(f),
    cycle: (id) => history.cycle(id),
    sites: (id) => history.sites(id),
    decisions: (id, f) => history.decisions(id, f),
    listLocks: (f) => locks.listLocks(f),
    lock: (user, request) => locks.lock(user, request, clock.now()),
    unlock: (user, ids) => locks.unlock(user, ids, clock.now()),
    setLocks: (user, requests) => locks.setLocks(user, requests, clock.now()),
    recordAccesses: (records) => accesses.recordAccesses(records),
  };
}
