/**
 * One Detox cycle's decision, from a snapshot and the inputs read from the
 * registry, as plain data named by names (never by ids): it can be computed
 * in the main isolate or on a reader replica in a Worker (docs/parallel_readers.md) and
 * posted back, and the writer can check what it relied on. Recording the
 * cycle and committing stay with the agent.
 */
import {
  admitOperation,
  copiesReliedOn,
  type DatasetOperation,
  deletionConflicts,
  type InventoryCommand,
  operationsInFlight,
  type Precondition,
  type Snapshot,
} from "../../registry/inventory/mod.ts";
import type { DetoxLock } from "../../registry/requests/detox_lock.ts";
import type { DecisionRow, SiteRow } from "../../registry/requests/detox_run.ts";
import { type CycleBudget, CycleBudgetExceeded, type CycleBudgetReport } from "../cycle_budget.ts";
import type { EnforcerRules } from "../enforcer_rules.ts";
import { produceAttributes } from "../producers/attributes.ts";
import type { AccessRecord } from "../producers/popularity.ts";
import { deletionPlan } from "./deletion_plan.ts";
import { type DetoxResult, type HoldBack, runDetoxPaced } from "./detox_engine.ts";
import { type DetoxPolicy, parseDetoxPolicy } from "./detox_policy.ts";
import { PartitionImage } from "./partition_image.ts";
import { roomForWaiting, type WaitingCopy } from "./room_for_requests.ts";

/** The policy as configured (text and where it came from) and how this run reads it. */
export interface DetoxPolicyRun {
  readonly file: string;
  readonly text: string;
  /** The partition of a file without a Partition line. */
  readonly partition?: string;
  readonly nowMs: number;
  readonly timeShiftDays?: number;
}

/** What the producers read from the registry: plain data, so it can be posted to a Worker. */
export interface DetoxRegistryInputs {
  readonly locks: readonly DetoxLock[];
  readonly accesses: readonly AccessRecord[];
  readonly protectedSites: readonly string[];
  readonly pendingCopies: readonly string[];
  readonly deletionPerIteration: number;
  /** Copies waiting for room, and the most of a site's quota held for them (`room_for_requests.ts`). */
  readonly roomForRequests?: { readonly waiting: readonly WaitingCopy[]; readonly maxFraction: number };
}

/** One deletion operation for the file-operations layer, by name. */
export interface NamedDeletion {
  readonly site: string;
  readonly dataset: string;
  /** null: the whole dataset replica. */
  readonly blocks: readonly string[] | null;
  readonly size: number;
}

interface DecisionBase {
  /** The generation of the snapshot the cycle decided on. */
  readonly generation: number;
  readonly partition: string;
  readonly policyHash: string;
  readonly policyText: string;
}

export type DetoxDecision =
  | DecisionBase & {
    readonly kind: "decided";
    readonly iterations: number;
    readonly evaluations: number;
    readonly unmatchedLines: readonly number[];
    readonly deletions: number;
    readonly deletedBytes: number;
    readonly decisions: readonly DecisionRow[];
    readonly sites: readonly SiteRow[];
    /** What committing the deletions means (empty when nothing is deleted or handed over). */
    readonly commands: readonly InventoryCommand[];
    readonly operations: readonly NamedDeletion[];
    /** The copies elsewhere that the deletions rely on (the writer re-checks them). */
    readonly preconditions: readonly Precondition[];
    readonly budget: CycleBudgetReport;
  }
  | DecisionBase & {
    readonly kind: "abandoned";
    readonly error: string;
    readonly budget: CycleBudgetReport;
  };

/** Parses the policy as the run reads it (the agent checks this before deciding). */
export function parseRunPolicy(run: DetoxPolicyRun): DetoxPolicy {
  return parseDetoxPolicy(run.text, {
    file: run.file,
    nowMs: run.nowMs,
    ...(run.partition !== undefined ? { partition: run.partition } : {}),
    ...(run.timeShiftDays ? { timeShiftDays: run.timeShiftDays } : {}),
  });
}

/** Decides one cycle on `snapshot`; past the budget the decision is "abandoned" with the reason. */
export async function decideDetoxCycle(
  snapshot: Snapshot,
  run: DetoxPolicyRun,
  inputs: DetoxRegistryInputs,
  enforcer: EnforcerRules | null,
  budget: CycleBudget,
): Promise<DetoxDecision> {
  const policy = parseRunPolicy(run);
  const base: DecisionBase = {
    generation: snapshot.generation,
    partition: policy.partition,
    policyHash: policy.hash,
    policyText: policy.text,
  };
  let result: DetoxResult;
  try {
    const attrs = produceAttributes(snapshot, {
      now: Math.floor(run.nowMs / 1000),
      locks: policy.attributes.includes("locked_blocks") ? inputs.locks : [],
      accesses: inputs.accesses,
      protectedSites: inputs.protectedSites,
      enforcer,
      pendingCopies: inputs.pendingCopies,
    });
    await budget.checkpoint("producers");
    const image = PartitionImage.build(snapshot, policy, attrs);
    const room = inputs.roomForRequests;
    if (room) {
      for (const [site, bytes] of roomForWaiting(snapshot, image, room.waiting, room.maxFraction)) {
        site.reserved = bytes;
      }
    }
    await budget.checkpoint("partition image");
    result = await runDetoxPaced(
      image,
      policy,
      { deletionPerIteration: inputs.deletionPerIteration, holdBack: conflictsOn(snapshot) },
      budget,
    );
  } catch (e) {
    if (!(e instanceof CycleBudgetExceeded)) throw e;
    return { ...base, kind: "abandoned", error: e.message, budget: budget.report() };
  }
  const plan = result.deletions.length > 0 || result.reassignments.length > 0
    ? deletionPlan(snapshot, result)
    : { commands: [], operations: [] };
  return {
    ...base,
    kind: "decided",
    iterations: result.iterations,
    evaluations: result.evaluations,
    unmatchedLines: [...result.unmatchedLines],
    deletions: result.deletions.length,
    deletedBytes: result.deletions.reduce((s, d) => s + d.size, 0),
    decisions: decisionRows(snapshot, result),
    sites: siteRows(snapshot, result),
    commands: plan.commands,
    operations: plan.operations.map((o) => ({
      site: snapshot.siteById(o.siteId)!.name,
      dataset: snapshot.datasetById(o.datasetId)!.name,
      blocks: o.blockIds === null ? null : o.blockIds.map((id) => snapshot.blockById(id)!.name),
      size: o.size,
    })),
    preconditions: [
      ...copiesReliedOn(snapshot, result.deletions),
      ...deletionConflicts(snapshot, result.deletions, "detox"),
    ],
    budget: budget.report(),
  };
}

/**
 * Detox's deletions checked against the operations in flight on the snapshot it decides on
 * (dataset_conflicts.ts): a replica that is the only source of a copy in flight is kept, with the
 * reason, instead of making the writer refuse the whole cycle (issue 15). The writer's `no_conflict`
 * re-check still catches a copy committed after the snapshot.
 */
export function conflictsOn(snapshot: Snapshot): HoldBack {
  const inFlight = new Map<string, readonly DatasetOperation[]>();
  return ({ siteId, blockId, alongside }) => {
    const block = snapshot.blockById(blockId);
    const dataset = block ? snapshot.datasetById(block.datasetId) : undefined;
    const site = snapshot.siteById(siteId);
    if (!block || !dataset || !site) return null;
    let ops = inFlight.get(dataset.name);
    if (!ops) inFlight.set(dataset.name, ops = operationsInFlight(snapshot, dataset.name));
    if (ops.length === 0) return null;
    const admission = admitOperation(dataset.name, ops, {
      kind: "deletion",
      block: block.name,
      site: site.name,
      by: "detox",
      alongside: alongside.map((id) => snapshot.siteById(id)!.name),
    });
    return admission.verdict === "allow" ? null : admission.reason;
  };
}

function decisionRows(snapshot: Snapshot, result: DetoxResult): DecisionRow[] {
  return result.decisions.map((d) => ({
    site: snapshot.siteById(d.siteId)!.name,
    dataset: snapshot.datasetById(d.datasetId)!.name,
    decision: d.decision,
    line: d.line,
    size: d.size,
    blocks: d.blockIds.map((id) => snapshot.blockById(id)!.name),
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
  }));
}

function siteRows(snapshot: Snapshot, result: DetoxResult): SiteRow[] {
  return result.sites.map((s) => {
    const site = snapshot.siteById(s.siteId)!;
    return {
      site: site.name,
      status: site.status,
      quota: s.quota,
      usedBefore: s.usedBefore,
      usedAfter: s.usedAfter,
      triggered: s.triggered,
      stillTriggered: s.stillTriggered,
      protectedBytes: s.protectedBytes,
      deletedBytes: s.deletedBytes,
      keptBytes: s.keptBytes,
    };
  });
}
