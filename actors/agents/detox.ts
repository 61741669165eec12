/**
 * The Detox agent: on its schedule (and on request) runs a cycle per policy
 * (spec §3.1). Everything that decides is pure (`policies/detox`); this actor
 * reads the inputs, records the cycle, and commits the deletions through the
 * inventory writer together with the deletion operations.
 */
import { parseDetoxPolicy } from "../../policies/detox/detox_policy.ts";
import { type DetoxResult, runDetoxPaced } from "../../policies/detox/detox_engine.ts";
import { CycleBudget, CycleBudgetExceeded, DEFAULT_CYCLE_BUDGET_MS } from "../../policies/cycle_budget.ts";
import { yieldToEventLoop } from "../runtime/clock.ts";
import { deletionPlan } from "../../policies/detox/deletion_plan.ts";
import { PartitionImage } from "../../policies/detox/partition_image.ts";
import type { EnforcerRules } from "../../policies/enforcer_rules.ts";
import { produceAttributes } from "../../policies/producers/attributes.ts";
import { ACCESS_HISTORY_SECONDS } from "../../policies/producers/popularity.ts";
import type { Snapshot } from "../../registry/inventory/mod.ts";
import type { DetoxRunRequest, DetoxRunSummary } from "../../registry/requests/detox_run.ts";
import type { AccessStore } from "../../adapters/db/access_store_port.ts";
import type { DecisionRow, DetoxHistory, SiteRow } from "../../adapters/db/detox_history_port.ts";
import type { LockStore } from "../../adapters/db/lock_store_port.ts";
import type { ActorRef, Behavior } from "../runtime/mod.ts";
import type { InventoryGateway } from "../inventory/inventory_gateway.ts";
import type { NewReplicaOperation } from "../../adapters/db/replica_operations_port.ts";
import { commitAtomic, operationTarget } from "./agent_commit.ts";
import { appLockOn } from "./app_lock_gate.ts";
import { lockedBy } from "../../registry/requests/app_lock.ts";
import type { AppLockStore } from "../../adapters/db/app_lock_store_port.ts";

export interface DetoxPolicySource {
  /** Where the text came from (for messages). */
  readonly file: string;
  readonly text: string;
  /** The partition the Detox configuration gives a file without a Partition line. */
  readonly partition?: string;
}

const fileName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

export interface DetoxAgentOptions {
  gateway: InventoryGateway;
  history: DetoxHistory;
  locks: LockStore;
  accesses: AccessStore;
  policies: readonly DetoxPolicySource[];
  /** Between scheduled cycles; 0 disables the schedule (cycles only on request). */
  intervalMs: number;
  deletionPerIteration?: number;
  protectedSites?: readonly string[];
  enforcer?: EnforcerRules | null;
  /** Items of copy requests not yet acted upon. */
  pendingCopies?: () => Promise<readonly string[]>;
  /** An application lock on `detox` pauses the agent. */
  appLocks?: AppLockStore;
  /** A cycle's time budget (default 30 min); past it the cycle is abandoned and recorded as failed. */
  cycleBudgetMs?: number;
}

export type DetoxMsg =
  | { type: "tick" }
  | { type: "run"; request: DetoxRunRequest; replyTo: ActorRef<DetoxRunSummary[] | { error: string }> };

export function detoxAgent(options: DetoxAgentOptions): Behavior<DetoxMsg, null> {
  return {
    init(ctx) {
      if (options.intervalMs > 0) ctx.timers.startPeriodic("cycle", options.intervalMs, { type: "tick" });
      return null;
    },
    async receive(state, msg, ctx) {
      switch (msg.type) {
        case "tick": {
          const locked = await lockHolder(options);
          if (locked) {
            ctx.log.info("Detox cycles skipped: {lock}", { lock: locked });
            return state;
          }
          for (const source of options.policies) {
            if (!knowsPartition(source, ctx.clock.now())) {
              ctx.log.info("Detox policy {file} skipped: it runs on request with its --partition", {
                file: source.file,
              });
              continue;
            }
            const summary = await runCycle(options, source, { mode: "normal" }, () => ctx.clock.now());
            ctx.log.info("Detox cycle done", { ...summary });
          }
          return state;
        }
        case "run": {
          const locked = await lockHolder(options);
          if (locked) {
            msg.replyTo.tell({ error: `Detox is ${locked}` });
            return state;
          }
          const chosen = chooseSources(options, msg.request, ctx.clock.now());
          if ("error" in chosen) {
            msg.replyTo.tell(chosen);
            return state;
          }
          const sources = chosen.sources;
          const summaries: DetoxRunSummary[] = [];
          for (const source of sources) {
            summaries.push(await runCycle(options, source, msg.request, () => ctx.clock.now()));
          }
          msg.replyTo.tell(summaries);
          return state;
        }
      }
    },
  };
}

/** Has a partition: its own Partition line or one from the configuration. */
function knowsPartition(source: DetoxPolicySource, nowMs: number): boolean {
  if (source.partition !== undefined) return true;
  try {
    parseDetoxPolicy(source.text, { nowMs, file: source.file });
    return true;
  } catch {
    return false;
  }
}

/**
 * The policies a run request names: one configured file (`policy`, with the
 * partition it gives for a file without one), or those of a partition, or all
 * that know their partition. Checked before running, so that a wrong name is
 * a reply, not a failed cycle.
 */
export function chooseSources(
  options: Pick<DetoxAgentOptions, "policies" | "gateway">,
  request: DetoxRunRequest,
  nowMs: number,
): { sources: DetoxPolicySource[] } | { error: string } {
  const shown = (s: string) => JSON.stringify(s.slice(0, 200));
  let sources: DetoxPolicySource[];
  if (request.policy !== undefined) {
    const source = options.policies.find((p) => fileName(p.file) === request.policy);
    if (!source) {
      return {
        error: `No configured Detox policy named ${shown(request.policy)} (configured: ${
          options.policies.map((p) => fileName(p.file)).join(", ")
        })`,
      };
    }
    sources = [
      request.partition !== undefined && source.partition === undefined
        ? { ...source, partition: request.partition }
        : source,
    ];
  } else {
    sources = options.policies.filter((p) => knowsPartition(p, nowMs));
  }
  const snapshot = options.gateway.snapshot();
  const checked: DetoxPolicySource[] = [];
  for (const source of sources) {
    let partition: string;
    try {
      partition = parseDetoxPolicy(source.text, {
        nowMs,
        file: source.file,
        ...(source.partition !== undefined ? { partition: source.partition } : {}),
      }).partition;
    } catch (e) {
      return { error: (e as Error).message };
    }
    if (request.partition !== undefined && partition !== request.partition) {
      if (request.policy !== undefined) {
        return { error: `${source.file} runs on partition "${partition}", not ${shown(request.partition)}` };
      }
      continue;
    }
    if (!snapshot.partition(partition)) return { error: `Unknown partition ${shown(partition)}` };
    checked.push(source);
  }
  if (checked.length === 0) {
    return {
      error: request.partition !== undefined
        ? `No Detox policy for partition ${shown(request.partition)}`
        : "No configured Detox policy knows its partition: give --policy FILE --partition NAME",
    };
  }
  return { sources: checked };
}

/** "locked by USER (note)" when an application lock pauses Detox. */
async function lockHolder(options: DetoxAgentOptions): Promise<string | null> {
  const lock = await appLockOn(options.appLocks, "detox");
  return lock ? lockedBy(lock) : null;
}

/** One cycle: producers, engine, history, and (normal mode) the commit. */
export async function runCycle(
  options: DetoxAgentOptions,
  source: DetoxPolicySource,
  request: DetoxRunRequest,
  now: () => number,
): Promise<DetoxRunSummary> {
  const started = now();
  const snapshot = options.gateway.snapshot();
  const policy = parseDetoxPolicy(source.text, {
    file: source.file,
    nowMs: started,
    ...(source.partition !== undefined ? { partition: source.partition } : {}),
    ...(request.timeShiftDays ? { timeShiftDays: request.timeShiftDays } : {}),
  });
  const nowSeconds = Math.floor(started / 1000);
  const budget = new CycleBudget({
    budgetMs: options.cycleBudgetMs ?? DEFAULT_CYCLE_BUDGET_MS,
    now,
    yieldNow: yieldToEventLoop,
  });
  const attrs = produceAttributes(snapshot, {
    now: nowSeconds,
    locks: policy.attributes.includes("locked_blocks")
      ? await options.locks.listLocks({ activeAt: nowSeconds })
      : [],
    accesses: await options.accesses.accessesSince(nowSeconds - ACCESS_HISTORY_SECONDS),
    protectedSites: options.protectedSites ?? [],
    enforcer: options.enforcer ?? null,
    pendingCopies: options.pendingCopies ? await options.pendingCopies() : [],
  });
  let result: DetoxResult | null = null;
  let abandoned: CycleBudgetExceeded | null = null;
  try {
    await budget.checkpoint("producers");
    const image = PartitionImage.build(snapshot, policy, attrs);
    await budget.checkpoint("partition image");
    const dpi = options.deletionPerIteration ?? 0.01;
    result = await runDetoxPaced(image, policy, { deletionPerIteration: dpi }, budget);
  } catch (e) {
    if (!(e instanceof CycleBudgetExceeded)) throw e;
    abandoned = e;
  }
  const cycleId = await options.history.startCycle({
    partition: policy.partition,
    mode: request.mode,
    policyHash: policy.hash,
    policyText: policy.text,
    generation: snapshot.generation,
    startedMs: started,
    timeShiftDays: request.timeShiftDays ?? 0,
    comment: request.comment ?? null,
  });
  if (!result) {
    return await recordAbandoned(options, cycleId, request, snapshot.generation, policy, abandoned!, budget);
  }
  let committedGeneration: number | null = null;
  let error: string | undefined;
  const deletedBytes = result.deletions.reduce((s, d) => s + d.size, 0);
  if (request.mode === "normal" && (result.deletions.length > 0 || result.reassignments.length > 0)) {
    const plan = deletionPlan(snapshot, result);
    const operations: NewReplicaOperation[] = plan.operations.map((o) => ({
      kind: "deletion",
      cycleId,
      requestId: null,
      ...operationTarget(snapshot, o),
      size: o.size,
    }));
    const commit = await commitAtomic(options.gateway, plan.commands, operations);
    if (commit.ok) committedGeneration = commit.generation;
    else error = commit.error;
  }
  await options.history.finishCycle(cycleId, {
    status: error ? "failed" : "done",
    endedMs: now(),
    iterations: result.iterations,
    evaluations: result.evaluations,
    deletedBytes: committedGeneration !== null || request.mode !== "normal" ? deletedBytes : 0,
    committedGeneration,
    unmatchedLines: [...result.unmatchedLines],
    decisions: decisionRows(snapshot, result),
    sites: siteRows(snapshot, result),
    budget: budget.report(),
  });
  return {
    cycleId,
    partition: policy.partition,
    mode: request.mode,
    generation: snapshot.generation,
    committedGeneration,
    deletedBytes,
    deletions: result.deletions.length,
    iterations: result.iterations,
    evaluations: result.evaluations,
    seconds: (now() - started) / 1000,
    unmatchedLines: [...result.unmatchedLines],
    ...(error ? { error } : {}),
  };
}

/** A cycle abandoned at its time budget: recorded as failed, with what it used and why; nothing committed. */
async function recordAbandoned(
  options: DetoxAgentOptions,
  cycleId: number,
  request: DetoxRunRequest,
  generation: number,
  policy: { partition: string },
  reason: CycleBudgetExceeded,
  budget: CycleBudget,
): Promise<DetoxRunSummary> {
  const report = { ...budget.report(), error: reason.message };
  await options.history.finishCycle(cycleId, {
    status: "failed",
    endedMs: budget.startedMs + report.elapsedMs,
    iterations: 0,
    evaluations: 0,
    deletedBytes: 0,
    committedGeneration: null,
    unmatchedLines: [],
    decisions: [],
    sites: [],
    budget: report,
  });
  return {
    cycleId,
    partition: policy.partition,
    mode: request.mode,
    generation,
    committedGeneration: null,
    deletedBytes: 0,
    deletions: 0,
    iterations: 0,
    evaluations: 0,
    seconds: report.elapsedMs / 1000,
    unmatchedLines: [],
    error: reason.message,
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
