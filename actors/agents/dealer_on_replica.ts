import type { InventoryGateway } from "../inventory/inventory_gateway.ts";
import type { ReplicaSlot } from "../inventory/replica_host.ts";
import type { Clock } from "../runtime/mod.ts";
import type { EnforcerRules } from "../../policies/enforcer_rules.ts";
import type { DealerDecider } from "./dealer.ts";
import { replicaCaughtUp } from "./replica_catch_up.ts";

/**
 * Dealer cycles decided on the reader replica (docs/parallel_readers.md), as
 * Detox's are: the replica first catches up with what the writer had
 * published when the cycle started (within the cycle's budget, or the cycle is
 * abandoned with the reason), decides with a `SeededRng` of the cycle's seed,
 * and posts the decision back by names; the agent commits it guarded by the
 * sources it relied on.
 */
export function replicaDealerDecider(
  slot: ReplicaSlot,
  gateway: () => InventoryGateway,
  enforcer: EnforcerRules | null,
  clock: Clock,
): DealerDecider {
  if (enforcer && !enforcer.source) {
    throw new TypeError("Enforcer rules without their source text cannot be given to a reader replica");
  }
  return {
    async decide({ config, inputs, seed, atLeast, budgetMs }) {
      const generation = () => Math.max(atLeast, gateway().snapshot().generation);
      const ready = await replicaCaughtUp(slot, generation, clock, budgetMs);
      if ("error" in ready) {
        return {
          kind: "abandoned",
          generation: gateway().snapshot().generation,
          error: ready.error,
          budget: { budgetMs, elapsedMs: ready.waitedMs, yields: 0, exceeded: true },
        };
      }
      return await ready.replica.decideDealer({
        config,
        inputs,
        enforcer: enforcer?.source ?? null,
        seed,
        budgetMs: budgetMs - ready.waitedMs,
      });
    },
  };
}
