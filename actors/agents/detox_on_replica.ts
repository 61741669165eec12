import type { InventoryGateway } from "../inventory/inventory_gateway.ts";
import type { ReplicaSlot } from "../inventory/replica_host.ts";
import type { EnforcerRules } from "../../policies/enforcer_rules.ts";
import type { DetoxDecider } from "./detox.ts";

/**
 * Detox cycles decided on the reader replica (docs/parallel_readers.md): the replica first
 * catches up with what the writer has published when the cycle starts, so the
 * decision is as fresh as one made on the main isolate, which meanwhile only
 * serves HTTP and writes.
 */
export function replicaDetoxDecider(
  slot: ReplicaSlot,
  gateway: () => InventoryGateway,
  enforcer: EnforcerRules | null,
): DetoxDecider {
  if (enforcer && !enforcer.source) {
    throw new TypeError("Enforcer rules without their source text cannot be given to a reader replica");
  }
  return {
    async decide({ run, inputs, budgetMs }) {
      const replica = await slot.whenReady();
      await replica.caughtUp(gateway().snapshot().generation);
      return await replica.decideDetox({ run, inputs, enforcer: enforcer?.source ?? null, budgetMs });
    },
  };
}
