import type { InventoryGateway } from "../inventory/inventory_gateway.ts";
import type { ReplicaSlot } from "../inventory/replica_host.ts";
import type { Clock } from "../runtime/mod.ts";
import type { EnforcerRules } from "../../policies/enforcer_rules.ts";
import { parseRunPolicy } from "../../policies/detox/detox_decision.ts";
import type { DetoxDecider } from "./detox.ts";
import { replicaCaughtUp } from "./replica_catch_up.ts";

/**
 * Detox cycles decided on the reader replica (docs/parallel_readers.md): the replica first
 * catches up with what the writer has published when the cycle starts, so the
 * decision is as fresh as one made on the main isolate, which meanwhile only
 * serves HTTP and writes. A replica that is not ready and caught up within the
 * cycle's budget abandons the cycle with the reason (the next one tries again).
 */
export function replicaDetoxDecider(
  slot: ReplicaSlot,
  gateway: () => InventoryGateway,
  enforcer: EnforcerRules | null,
  clock: Clock,
): DetoxDecider {
  if (enforcer && !enforcer.source) {
    throw new TypeError("Enforcer rules without their source text cannot be given to a reader replica");
  }
  return {
    async decide({ run, inputs, budgetMs }) {
      const ready = await replicaCaughtUp(slot, () => gateway().snapshot().generation, clock, budgetMs);
      if ("error" in ready) {
        const policy = parseRunPolicy(run);
        return {
          kind: "abandoned",
          generation: gateway().snapshot().generation,
          partition: policy.partition,
          policyHash: policy.hash,
          policyText: policy.text,
          error: ready.error,
          budget: { budgetMs, elapsedMs: ready.waitedMs, yields: 0, exceeded: true },
        };
      }
      return await ready.replica.decideDetox({
        run,
        inputs,
        enforcer: enforcer?.source ?? null,
        budgetMs: budgetMs - ready.waitedMs,
      });
    },
  };
}
