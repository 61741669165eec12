/**
 * One whole Dealer cycle, pure: each configured plugin proposes from its
 * inputs, the engine decides, the request plugin records what became of each
 * request action, and the accepted copies become inventory commands and copy
 * operations. Same inputs and seed → same decisions.
 */
import type { Snapshot } from "../../registry/inventory/mod.ts";
import type { CopyRequest } from "../../registry/requests/copy_request.ts";
import type { JobRecord } from "../../registry/requests/job_record.ts";
import type { EnforcerRules } from "../enforcer_rules.ts";
import { type CycleBudget, runPaced, runStraight } from "../cycle_budget.ts";
import { requestWeights } from "../producers/demand.ts";
import { type CopyPlan, copyPlan } from "./copy_plan.ts";
import type { DealerConfig } from "./dealer_config.ts";
import { type DealerResult, runDealer } from "./dealer_engine.ts";
import type { RandomSource } from "./interleave.ts";
import { balancerProposals, type DetoxProtection } from "./plugins/balancer.ts";
import { enforcerProposals } from "./plugins/enforcer.ts";
import { groupReassignerProposals } from "./plugins/group_reassigner.ts";
import { popularityProposals } from "./plugins/popularity.ts";
import { afterDealer, copyRequestProposals } from "./plugins/requests.ts";
import { undertakerProposals } from "./plugins/undertaker.ts";
import type { DealerProposal } from "./proposal.ts";
import { siteReliability } from "./reliability.ts";
import { DealerLedger } from "./target_sites.ts";

export interface DealerCycleInputs {
  readonly snapshot: Snapshot;
  readonly config: DealerConfig;
  readonly rng: RandomSource;
  /** Unix seconds. */
  readonly now: number;
  readonly copyRequests: readonly CopyRequest[];
  readonly jobs: readonly JobRecord[];
  /** Rules of the enforcer plugin (read from its `policy` file). */
  readonly enforcer: EnforcerRules | null;
  /** The last Detox cycle of the partition, for the balancer. */
  readonly detox: DetoxProtection | null;
  readonly transferOutcomes: ReadonlyMap<string, { done: number; failed: number }>;
}

export interface DealerCycleOutput {
  readonly result: DealerResult;
  readonly plan: CopyPlan;
  /** Copy requests as they are after the cycle (activated, queued, failed, …). */
  readonly copyRequests: CopyRequest[];
}

export function dealerCycle(inputs: DealerCycleInputs): DealerCycleOutput {
  return runStraight(dealerCycleSteps(inputs));
}

/** The same cycle, stopping at the budget's checkpoints between plugins and phases. */
export function dealerCyclePaced(inputs: DealerCycleInputs, budget: CycleBudget): Promise<DealerCycleOutput> {
  return runPaced(dealerCycleSteps(inputs), budget);
}

/** The cycle as steps: it yields the name of what comes next at each checkpoint. */
function* dealerCycleSteps(inputs: DealerCycleInputs): Generator<string, DealerCycleOutput> {
  const { snapshot, config, rng, now } = inputs;
  const partition = snapshot.partition(config.partition);
  if (!partition) throw new RangeError(`The Dealer's partition "${config.partition}" is not defined`);
  const proposals = new Map<string, DealerProposal[]>();
  let requests = [...inputs.copyRequests];
  let limits = { maxAttempts: Number.POSITIVE_INFINITY, requestWait: 7 * 86400 };
  for (const plugin of config.plugins) {
    yield `plugin ${plugin.name}`;
    switch (plugin.module) {
      case "CopyRequestsHandler": {
        const ledger = new DealerLedger(snapshot, partition, config);
        const step = copyRequestProposals(
          {
            snapshot,
            name: plugin.name,
            config: plugin.config,
            defaultGroup: config.defaultGroup,
            ledger,
            rng,
            now,
          },
          requests,
        );
        requests = step.requests;
        limits = plugin.config;
        proposals.set(plugin.name, step.proposals);
        break;
      }
      case "PopularityHandler":
        proposals.set(
          plugin.name,
          popularityProposals(
            snapshot,
            plugin.name,
            plugin.config,
            requestWeights(snapshot, inputs.jobs, now, config.demandHalfLifeDays),
          ),
        );
        break;
      case "EnforcerHandler":
        if (inputs.enforcer) {
          proposals.set(
            plugin.name,
            enforcerProposals(snapshot, plugin.name, plugin.config, inputs.enforcer, partition, rng),
          );
        }
        break;
      case "BalancingHandler":
        if (inputs.detox) {
          proposals.set(
            plugin.name,
            balancerProposals(snapshot, plugin.name, plugin.config, partition, inputs.detox),
          );
        }
        break;
      case "Undertaker":
        proposals.set(plugin.name, undertakerProposals(snapshot, plugin.name, plugin.config, partition));
        break;
      case "GroupReassigner":
        proposals.set(plugin.name, groupReassignerProposals(snapshot, plugin.name, plugin.config));
        break;
    }
  }
  yield "engine";
  const result = runDealer({
    snapshot,
    config,
    proposals,
    rng,
    reliability: siteReliability(snapshot, inputs.transferOutcomes),
  });
  yield "copy plan";
  return {
    result,
    plan: copyPlan(snapshot, result.copies),
    copyRequests: afterDealer(snapshot, requests, result.decisions, limits, now),
  };
}
