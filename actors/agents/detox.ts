/**
 * The Detox agent: on its schedule (and on request) runs a cycle per policy
 * (spec §3.1). Everything that decides is pure (`policies/detox`); this actor
 * reads the inputs, records the cycle, and commits the deletions through the
 * inventory writer together with the deletion operations.
 */
import { parseDetoxPolicy } from "../../policies/detox/detox_policy.ts";
import { CycleBudget, CycleBudgetExceeded, DEFAULT_CYCLE_BUDGET_MS } from "../../policies/cycle_budget.ts";
import { yieldToEventLoop } from "../runtime/clock.ts";
import {
  decideDetoxCycle,
  type DetoxDecision,
  type DetoxPolicyRun,
  type DetoxRegistryInputs,
  parseRunPolicy,
} from "../../policies/detox/detox_decision.ts";
import type { EnforcerRules } from "../../policies/enforcer_rules.ts";
import { ACCESS_HISTORY_SECONDS } from "../../policies/producers/popularity.ts";
import type { DetoxRunRequest, DetoxRunSummary } from "../../registry/requests/detox_run.ts";
import type { AccessStore } from "../../adapters/db/access_store_port.ts";
import type { DetoxHistory } from "../../adapters/db/detox_history_port.ts";
import type { LockStore } from "../../adapters/db/lock_store_port.ts";
import type { ActorRef, Behavior, Logger } from "../runtime/mod.ts";
import type { CycleLock } from "./cycle_ticker.ts";
import type { InventoryGateway } from "../inventory/inventory_gateway.ts";
import type { NewReplicaOperation } from "../../adapters/db/replica_operations_port.ts";
import { commitAtomic } from "./agent_commit.ts";
import { earlyCycleDue, waitingCopies } from "../../policies/detox/room_for_requests.ts";
import type { CopyRequest } from "../../registry/requests/copy_request.ts";
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
  /** Open copy requests: those waiting for room get room made for them (`roomForRequests`). */
  openCopyRequests?: () => Promise<readonly CopyRequest[]>;
  /** Room for copy requests that wait (docs/detox.md); absent or `maxFraction` 0: off. */
  roomForRequests?: RoomForRequests;
  /** An application lock on `detox` pauses the agent. */
  appLocks?: AppLockStore;
  /** A cycle's time budget (default 30 min); past it the cycle is abandoned and recorded as failed. */
  cycleBudgetMs?: number;
  /** Decides cycles on a reader replica (a Worker); absent: on the main isolate's snapshot. */
  decider?: DetoxDecider;
  /** Shared with the scheduled cycles' ticker (`cycle_ticker.ts`), so that cycles never overlap. */
  cycles?: CycleLock;
}

/** See docs/detox.md, "Room for waiting copy requests". */
export interface RoomForRequests {
  /** The most of a site's quota held for waiting copies. */
  readonly maxFraction: number;
  /** Least time between two cycles run early for waiting copies. */
  readonly intervalMs: number;
  /** How often waiting copies are looked for (default `ROOM_CHECK_MS`). */
  readonly checkMs?: number;
}

/** Waiting copies are looked for every 5 minutes, as often as the request tracker's default pass. */
export const ROOM_CHECK_MS = 300_000;

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
        case "tick":
          await scheduledDetoxCycles(options, ctx.log, () => ctx.clock.now());
          return state;
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
          const cycles = async () => {
            for (const source of sources) {
              summaries.push(await runCycle(options, source, msg.request, () => ctx.clock.now()));
            }
          };
          await (options.cycles ? options.cycles.run(cycles) : cycles());
          msg.replyTo.tell(summaries);
          return state;
        }
      }
    },
  };
}

/** A scheduled pass: every policy that knows its partition, unless an application lock pauses Detox. */
export async function scheduledDetoxCycles(
  options: DetoxAgentOptions,
  log: Logger,
  now: () => number,
): Promise<number> {
  const locked = await lockHolder(options);
  if (locked) {
    log.info("Detox cycles skipped: {lock}", { lock: locked });
    return 0;
  }
  let deleted = 0;
  for (const source of options.policies) {
    if (!knowsPartition(source, now())) {
      log.info("Detox policy {file} skipped: it runs on request with its --partition", {
        file: source.file,
      });
      continue;
    }
    const summary = await runCycle(options, source, { mode: "normal" }, now);
    log.info("Detox cycle done", { ...summary });
    if (summary.committedGeneration !== null) deleted += summary.deletedBytes;
  }
  return deleted;
}

/** When the last cycle run early for waiting copies started (kept across restarts of the ticker). */
export interface EarlyCycles {
  lastMs: number | null;
}

/**
 * Cycles run early because copy requests wait for room (`earlyCycleDue`), as
 * a scheduled pass. Returns whether they deleted anything (room was made).
 */
export async function earlyDetoxCycles(
  options: DetoxAgentOptions,
  early: EarlyCycles,
  log: Logger,
  now: () => number,
): Promise<boolean> {
  const room = options.roomForRequests;
  if (!room || !(room.maxFraction > 0) || !options.openCopyRequests) return false;
  const waiting = waitingCopies(await options.openCopyRequests()).length;
  const nowMs = now();
  if (!earlyCycleDue({ waiting, nowMs, lastMs: early.lastMs, intervalMs: room.intervalMs })) return false;
  early.lastMs = nowMs;
  log.info("Detox runs early: {waiting} copies wait for room", { waiting });
  return (await scheduledDetoxCycles(options, log, now)) > 0;
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

/**
 * Where a cycle's decision is computed when not on the main isolate: a reader
 * replica in a Worker (`actors/inventory/replica_host.ts`). The enforcer rules
 * travel as their text, since compiled conditions cannot be posted.
 */
export interface DetoxDecider {
  decide(request: {
    run: DetoxPolicyRun;
    inputs: DetoxRegistryInputs;
    budgetMs: number;
  }): Promise<DetoxDecision>;
}

/** One cycle: producers, engine, history, and (normal mode) the commit. */
export async function runCycle(
  options: DetoxAgentOptions,
  source: DetoxPolicySource,
  request: DetoxRunRequest,
  now: () => number,
): Promise<DetoxRunSummary> {
  const started = now();
  const run: DetoxPolicyRun = {
    file: source.file,
    text: source.text,
    nowMs: started,
    ...(source.partition !== undefined ? { partition: source.partition } : {}),
    ...(request.timeShiftDays ? { timeShiftDays: request.timeShiftDays } : {}),
  };
  const policy = parseRunPolicy(run);
  const nowSeconds = Math.floor(started / 1000);
  const budgetMs = options.cycleBudgetMs ?? DEFAULT_CYCLE_BUDGET_MS;
  const inputs: DetoxRegistryInputs = {
    locks: policy.attributes.includes("locked_blocks")
      ? await options.locks.listLocks({ activeAt: nowSeconds })
      : [],
    accesses: await options.accesses.accessesSince(nowSeconds - ACCESS_HISTORY_SECONDS),
    protectedSites: options.protectedSites ?? [],
    pendingCopies: options.pendingCopies ? await options.pendingCopies() : [],
    deletionPerIteration: options.deletionPerIteration ?? 0.01,
    ...(options.roomForRequests && options.roomForRequests.maxFraction > 0 && options.openCopyRequests
      ? {
        roomForRequests: {
          waiting: waitingCopies(await options.openCopyRequests()),
          maxFraction: options.roomForRequests.maxFraction,
        },
      }
      : {}),
  };
  // On a reader replica the main isolate only waits; in-process the cycle yields at its checkpoints.
  const decision = options.decider
    ? withinBudget(await options.decider.decide({ run, inputs, budgetMs }), started, now(), budgetMs)
    : await decideDetoxCycle(
      options.gateway.snapshot(),
      run,
      inputs,
      options.enforcer ?? null,
      new CycleBudget({ budgetMs, now, yieldNow: yieldToEventLoop }),
    );
  const cycleId = await options.history.startCycle({
    partition: decision.partition,
    mode: request.mode,
    policyHash: decision.policyHash,
    policyText: decision.policyText,
    generation: decision.generation,
    startedMs: started,
    timeShiftDays: request.timeShiftDays ?? 0,
    comment: request.comment ?? null,
  });
  if (decision.kind === "abandoned") {
    return await recordAbandoned(options, cycleId, request, decision, started);
  }
  let committedGeneration: number | null = null;
  let error: string | undefined;
  const deletedBytes = decision.deletedBytes;
  if (request.mode === "normal" && decision.commands.length > 0) {
    const operations: NewReplicaOperation[] = decision.operations.map((o) => ({
      kind: "deletion",
      cycleId,
      requestId: null,
      site: o.site,
      dataset: o.dataset,
      blocks: o.blocks === null ? null : [...o.blocks],
      size: o.size,
    }));
    // The writer re-checks the copies the deletions rely on against its own state (docs/parallel_readers.md).
    const commit = await commitAtomic(options.gateway, decision.commands, operations, {
      decidedAt: decision.generation,
      preconditions: decision.preconditions,
    });
    if (commit.ok) committedGeneration = commit.generation;
    else error = commit.error;
  }
  await options.history.finishCycle(cycleId, {
    status: error ? "failed" : "done",
    endedMs: now(),
    iterations: decision.iterations,
    evaluations: decision.evaluations,
    deletedBytes: committedGeneration !== null || request.mode !== "normal" ? deletedBytes : 0,
    committedGeneration,
    unmatchedLines: [...decision.unmatchedLines],
    decisions: [...decision.decisions],
    sites: [...decision.sites],
    // Why nothing was committed is kept with the cycle (REST history shows it).
    budget: { ...decision.budget, ...(error ? { error } : {}) },
  });
  return {
    cycleId,
    partition: decision.partition,
    mode: request.mode,
    generation: decision.generation,
    committedGeneration,
    deletedBytes,
    deletions: decision.deletions,
    iterations: decision.iterations,
    evaluations: decision.evaluations,
    seconds: (now() - started) / 1000,
    unmatchedLines: [...decision.unmatchedLines],
    ...(error ? { error } : {}),
  };
}

/**
 * The budget as the service's clock sees it: a decision from a replica (whose Worker keeps its own,
 * real-time budget) that comes back after the budget is spent is abandoned like one that ran out there.
 */
function withinBudget(
  decision: DetoxDecision,
  startedMs: number,
  nowMs: number,
  budgetMs: number,
): DetoxDecision {
  const elapsedMs = nowMs - startedMs;
  if (decision.kind !== "decided" || elapsedMs <= budgetMs) return decision;
  const exceeded = new CycleBudgetExceeded(budgetMs, elapsedMs, "the decision on the reader replica");
  const { generation, partition, policyHash, policyText } = decision;
  return {
    generation,
    partition,
    policyHash,
    policyText,
    kind: "abandoned",
    error: exceeded.message,
    budget: { budgetMs, elapsedMs, yields: decision.budget.yields, exceeded: true },
  };
}

/** A cycle abandoned at its time budget: recorded as failed, with what it used and why; nothing committed. */
async function recordAbandoned(
  options: DetoxAgentOptions,
  cycleId: number,
  request: DetoxRunRequest,
  decision: DetoxDecision & { kind: "abandoned" },
  startedMs: number,
): Promise<DetoxRunSummary> {
  const report = { ...decision.budget, error: decision.error };
  await options.history.finishCycle(cycleId, {
    status: "failed",
    endedMs: startedMs + report.elapsedMs,
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
    partition: decision.partition,
    mode: request.mode,
    generation: decision.generation,
    committedGeneration: null,
    deletedBytes: 0,
    deletions: 0,
    iterations: 0,
    evaluations: 0,
    seconds: report.elapsedMs / 1000,
    unmatchedLines: [],
    error: decision.error,
  };
}
