/**
 * One Dealer cycle's decision, from a snapshot and the inputs read from the
 * registry, as plain data named by names (never by ids): like Detox's
 * (`policies/detox/detox_decision.ts`) it can be computed in the main isolate
 * or on a reader replica in a Worker and posted back, and the writer can check
 * the sources it relied on. Recording the cycle and committing stay with the
 * agent.
 */
import {
  copyConflicts,
  type InventoryCommand,
  type Precondition,
  type Snapshot,
  sourcesReliedOn,
} from "../../registry/inventory/mod.ts";
import type { CopyRequest } from "../../registry/requests/copy_request.ts";
import type { DealerDecisionRow } from "../../registry/requests/dealer_run.ts";
import type { JobRecord } from "../../registry/requests/job_record.ts";
import { type CycleBudget, CycleBudgetExceeded, type CycleBudgetReport } from "../cycle_budget.ts";
import type { EnforcerRules } from "../enforcer_rules.ts";
import type { DealerConfig } from "./dealer_config.ts";
import { type DealerCycleOutput, dealerCyclePaced } from "./dealer_cycle.ts";
import type { RandomSource } from "./interleave.ts";
import type { DetoxProtection } from "./plugins/balancer.ts";
import { decisionReason } from "./proposal.ts";

/** The last Detox cycle's protection, by names (resolved on the snapshot that decides). */
export interface NamedDetoxProtection {
  readonly sites: readonly { site: string; quota: number; protectedBytes: number }[];
  readonly protectedReplicas: readonly { site: string; dataset: string; size: number; reason: string }[];
}

/** What the plugins read from the registry: plain data, so it can be posted to a Worker. */
export interface DealerRegistryInputs {
  /** Unix seconds. */
  readonly now: number;
  readonly copyRequests: readonly CopyRequest[];
  readonly jobs: readonly JobRecord[];
  readonly detox: NamedDetoxProtection | null;
  readonly transferOutcomes: ReadonlyMap<string, { done: number; failed: number }>;
}

/** One copy operation for the file-operations layer, by name. */
export interface NamedCopy {
  readonly site: string;
  readonly dataset: string;
  /** null: every block of the dataset. */
  readonly blocks: readonly string[] | null;
  readonly bytes: number;
  /** The first copy request it serves, if any. */
  readonly requestId: number | null;
}

interface DecisionBase {
  /** The generation of the snapshot the cycle decided on. */
  readonly generation: number;
}

export type DealerDecision =
  | DecisionBase & {
    readonly kind: "decided";
    readonly targets: number;
    readonly copies: number;
    readonly totalBytes: number;
    readonly rejections: Readonly<Record<string, number>>;
    readonly decisions: readonly DealerDecisionRow[];
    /** What committing the copies means (empty when nothing is copied). */
    readonly commands: readonly InventoryCommand[];
    readonly operations: readonly NamedCopy[];
    /** The sources the copies rely on, and that no deletion of them at the destination has started (the writer re-checks both). */
    readonly preconditions: readonly Precondition[];
    /** The copy requests as they are after the cycle. */
    readonly copyRequests: readonly CopyRequest[];
    readonly budget: CycleBudgetReport;
  }
  | DecisionBase & {
    readonly kind: "abandoned";
    readonly error: string;
    readonly budget: CycleBudgetReport;
  };

/** Decides one cycle on `snapshot`; past the budget the decision is "abandoned" with the reason. */
export async function decideDealerCycle(
  snapshot: Snapshot,
  config: DealerConfig,
  inputs: DealerRegistryInputs,
  enforcer: EnforcerRules | null,
  rng: RandomSource,
  budget: CycleBudget,
): Promise<DealerDecision> {
  let out: DealerCycleOutput;
  try {
    out = await dealerCyclePaced({
      snapshot,
      config,
      rng,
      now: inputs.now,
      copyRequests: inputs.copyRequests,
      jobs: inputs.jobs,
      enforcer,
      detox: inputs.detox ? resolveProtection(snapshot, inputs.detox) : null,
      transferOutcomes: inputs.transferOutcomes,
    }, budget);
  } catch (e) {
    if (!(e instanceof CycleBudgetExceeded)) throw e;
    return { generation: snapshot.generation, kind: "abandoned", error: e.message, budget: budget.report() };
  }
  const { result, plan } = out;
  const blockNames = (ids: readonly number[]) => ids.map((id) => snapshot.blockById(id)?.name ?? `#${id}`);
  return {
    generation: snapshot.generation,
    kind: "decided",
    targets: result.targets.length,
    copies: result.copies.length,
    totalBytes: result.totalBytes,
    rejections: Object.fromEntries(result.rejections),
    decisions: result.decisions.map((d) => ({
      plugin: d.proposal.plugin,
      dataset: snapshot.datasetById(d.proposal.datasetId)?.name ?? `#${d.proposal.datasetId}`,
      blocks: d.proposal.blockIds === null ? null : blockNames(d.proposal.blockIds),
      site: d.siteId === null ? null : snapshot.siteById(d.siteId)!.name,
      accepted: d.accepted,
      reason: decisionReason(d),
      why: d.proposal.why,
      bytes: d.bytes,
      requestId: d.proposal.requestId ?? null,
    })),
    commands: plan.commands,
    operations: plan.operations.map((o) => ({
      site: snapshot.siteById(o.siteId)!.name,
      dataset: snapshot.datasetById(o.datasetId)!.name,
      blocks: o.blockIds === null ? null : blockNames(o.blockIds),
      bytes: o.bytes,
      requestId: o.requestIds[0] ?? null,
    })),
    preconditions: [...sourcesReliedOn(snapshot, result.copies), ...copyConflicts(snapshot, result.copies)],
    copyRequests: out.copyRequests,
    budget: budget.report(),
  };
}

/** The protection by this snapshot's ids; sites and datasets it no longer has are left out. */
export function resolveProtection(snapshot: Snapshot, named: NamedDetoxProtection): DetoxProtection {
  return {
    sites: named.sites.flatMap((s) => {
      const site = snapshot.site(s.site);
      return site ? [{ siteId: site.id, quota: s.quota, protectedBytes: s.protectedBytes }] : [];
    }),
    protectedReplicas: named.protectedReplicas.flatMap((r) => {
      const site = snapshot.site(r.site);
      const dataset = snapshot.dataset(r.dataset);
      return site && dataset
        ? [{ siteId: site.id, datasetId: dataset.id, size: r.size, reason: r.reason }]
        : [];
    }),
  };
}
