import type { InventoryGateway } from "../inventory/inventory_gateway.ts";
import type { ReplicaSlot } from "../inventory/replica_host.ts";
import type { EnforcerRules } from "../../policies/enforcer_rules.ts";
import type { DealerDecider } from "./dealer.ts";

/**
 * Dealer cycles decided on the reader replica (docs/parallel_readers.md), as
 * Detox's are: the replica first catches up with what the writer had
 * published when the cycle started, decides with a `SeededRng` of the cycle's
 * seed, and posts the decision back by names; the agent commits it guarded by
 * the sources it relied on.
 */
export function replicaDealerDecider(
  slot: ReplicaSlot,
  gateway: () => InventoryGateway,
  enforcer: EnforcerRules | null,
): DealerDecider {
  if (enforcer && !enforcer.source) {
    throw new TypeError("Enforcer rules without their source text cannot be given to a reader replica");
  }
  return {
    async decide({ config, inputs, seed, atLeast, budgetMs }) {
      const replica = await slot.whenReady();
      await replica.caughtUp(Math.max(atLeast, gateway().snapshot().generation));
      return await replica.decideDealer({
        config,
        inputs,
        enforcer: enforcer?.source ?? null,
        seed,
        budgetMs,
      });
    },
  };
}
