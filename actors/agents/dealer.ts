/**
 * The Dealer agent: on its schedule (and on request) runs a Dealer cycle
 * (spec §4.2). Everything that decides is pure (`policies/dealer`); this
 * actor reads the inputs (requests, job demand, the last Detox cycle, copy
 * outcomes), records the cycle, commits the copies through the inventory
 * writer together with their copy operations, and then records what became of
 * each request action. An application lock on `dealer` pauses it.
 */
import type { DealerConfig } from "../../policies/dealer/dealer_config.ts";
import {
  type DealerDecision,
  type DealerRegistryInputs,
  decideDealerCycle,
  type NamedDetoxProtection,
} from "../../policies/dealer/dealer_decision.ts";
import { CycleBudget, CycleBudgetExceeded, DEFAULT_CYCLE_BUDGET_MS } from "../../policies/cycle_budget.ts";
import { yieldToEventLoop } from "../runtime/clock.ts";
import type { RandomSource } from "../../policies/dealer/interleave.ts";
import type { EnforcerRules } from "../../policies/enforcer_rules.ts";
import { JOB_HISTORY_SECONDS } from "../../registry/requests/job_record.ts";
import type { DealerMode, DealerRunSummary } from "../../registry/requests/dealer_run.ts";
import type { AppLockStore } from "../../adapters/db/app_lock_store_port.ts";
import type { DealerHistory } from "../../adapters/db/dealer_history_port.ts";
import type { DemandStore } from "../../adapters/db/demand_store_port.ts";
import type { RequestStore } from "../../adapters/db/request_store_port.ts";
import type { DetoxHistory } from "../../adapters/db/detox_history_port.ts";
import type { NewReplicaOperation } from "../../adapters/db/replica_operations_port.ts";
import type { ActorRef, Behavior, Logger } from "../runtime/mod.ts";
import type { CycleLock } from "./cycle_ticker.ts";
import type { InventoryGateway } from "../inventory/inventory_gateway.ts";
import { commitAtomic } from "./agent_commit.ts";
import { appLockOn } from "./app_lock_gate.ts";
import { lockedBy } from "../../registry/requests/app_lock.ts";

export interface DealerAgentOptions {
  gateway: InventoryGateway;
  config: DealerConfig;
  enforcer: EnforcerRules | null;
  requests: RequestStore;
  demand: DemandStore;
  history: DealerHistory;
  detoxHistory: DetoxHistory;
  appLocks: AppLockStore;
  /** Between scheduled cycles; 0 disables the schedule. */
  intervalMs: number;
  /** A fresh seeded random source per cycle (the seed is logged with the cycle). */
  random: (cycleSeed: number) => RandomSource;
  /** A cycle's time budget (default 30 min); past it the cycle is abandoned and recorded as failed. */
  cycleBudgetMs?: number;
  /** Shared with the scheduled cycles' ticker (`cycle_ticker.ts`), so that cycles never overlap. */
  cycles?: CycleLock;
  /** Decides cycles on a reader replica (a Worker); absent: on the main isolate's snapshot. */
  decider?: DealerDecider;
}

export type DealerMsg =
  | { type: "tick" }
  | { type: "run"; mode: DealerMode; comment?: string; replyTo: ActorRef<DealerRunSummary> };

/** Copy outcomes this far back make a site's reliability. */
export const RELIABILITY_WINDOW_MS = 7 * 86400_000;

export function dealerAgent(options: DealerAgentOptions): Behavior<DealerMsg, null> {
  return {
    init(ctx) {
      if (options.intervalMs > 0) ctx.timers.startPeriodic("cycle", options.intervalMs, { type: "tick" });
      return null;
    },
    async receive(state, msg, ctx) {
      const now = () => ctx.clock.now();
      if (msg.type === "tick") {
        // A tick told by another actor (Detox made room) waits for a cycle in progress.
        const cycle = () => scheduledDealerCycle(options, ctx.log, now);
        await (options.cycles ? options.cycles.run(cycle) : cycle());
        return state;
      }
      const locked = await appLockOn(options.appLocks, "dealer");
      const cycle = () => runDealerCycle(options, msg.mode, msg.comment ?? null, now);
      msg.replyTo.tell(
        locked
          ? {
            ...emptySummary(msg.mode, options.gateway.snapshot().generation),
            error: `The dealer is ${lockedBy(locked)}`,
          }
          : await (options.cycles ? options.cycles.run(cycle) : cycle()),
      );
      return state;
    },
  };
}

/** A scheduled cycle, unless an application lock pauses the Dealer. */
export async function scheduledDealerCycle(
  options: DealerAgentOptions,
  log: Logger,
  now: () => number,
): Promise<void> {
  const locked = await appLockOn(options.appLocks, "dealer");
  if (locked) {
    log.info("Dealer cycle skipped: locked", { user: locked.user, note: locked.note ?? "" });
  } else log.info("Dealer cycle done", { ...(await runDealerCycle(options, "normal", null, now)) });
}

function emptySummary(mode: DealerMode, generation: number): DealerRunSummary {
  return {
    cycleId: null,
    mode,
    generation,
    committedGeneration: null,
    copies: 0,
    bytes: 0,
    accepted: 0,
    rejected: 0,
    rejections: {},
    seconds: 0,
  };
}

/**
 * Where a cycle's decision is computed when not on the main isolate: a reader
 * replica in a Worker (`dealer_on_replica.ts`), which decides with a
 * `SeededRng` of the cycle's seed, as the service's own `random` does.
 */
export interface DealerDecider {
  decide(request: {
    config: DealerConfig;
    inputs: DealerRegistryInputs;
    /** The cycle's id: the seed of its random source. */
    seed: number;
    /** The generation the replica must have applied first (the one the cycle started at). */
    atLeast: number;
    budgetMs: number;
  }): Promise<DealerDecision>;
}

/** One cycle: inputs, decisions, history, and (normal mode) the commit. */
export async function runDealerCycle(
  options: DealerAgentOptions,
  mode: DealerMode,
  comment: string | null,
  now: () => number,
): Promise<DealerRunSummary> {
  const started = now();
  const nowSeconds = Math.floor(started / 1000);
  const snapshot = options.gateway.snapshot();
  const cycleId = await options.history.startCycle({
    partition: options.config.partition,
    mode,
    generation: snapshot.generation,
    startedMs: started,
    comment,
  });
  const budgetMs = options.cycleBudgetMs ?? DEFAULT_CYCLE_BUDGET_MS;
  const copyRequests = await options.requests.openCopyRequests();
  const inputs: DealerRegistryInputs = {
    now: nowSeconds,
    copyRequests,
    jobs: await options.demand.jobsSince(nowSeconds - JOB_HISTORY_SECONDS),
    detox: await lastDetoxProtection(options.detoxHistory, options.config.partition),
    transferOutcomes: await options.history.transferOutcomes(started - RELIABILITY_WINDOW_MS),
  };
  // On a reader replica the main isolate only waits; in-process the cycle yields at its checkpoints.
  const decision = options.decider
    ? withinBudget(
      await options.decider.decide({
        config: options.config,
        inputs,
        seed: cycleId,
        atLeast: snapshot.generation,
        budgetMs,
      }),
      started,
      now(),
      budgetMs,
    )
    : await decideDealerCycle(
      snapshot,
      options.config,
      inputs,
      options.enforcer,
      options.random(cycleId),
      new CycleBudget({ budgetMs, now, yieldNow: yieldToEventLoop }),
    );
  if (decision.kind === "abandoned") {
    const report = { ...decision.budget, error: decision.error };
    await options.history.finishCycle(cycleId, {
      status: "failed",
      endedMs: now(),
      committedGeneration: null,
      targets: 0,
      accepted: 0,
      rejected: 0,
      bytes: 0,
      rejections: {},
      error: decision.error,
      decisions: [],
      budget: report,
    });
    return {
      cycleId,
      mode,
      generation: decision.generation,
      committedGeneration: null,
      copies: 0,
      bytes: 0,
      accepted: 0,
      rejected: 0,
      rejections: {},
      seconds: report.elapsedMs / 1000,
      error: decision.error,
    };
  }
  let committedGeneration: number | null = null;
  let error: string | null = null;
  if (mode === "normal") {
    if (decision.commands.length > 0) {
      const operations: NewReplicaOperation[] = decision.operations.map((o) => ({
        kind: "copy",
        cycleId,
        requestId: o.requestId,
        site: o.site,
        dataset: o.dataset,
        blocks: o.blocks === null ? null : [...o.blocks],
        size: o.bytes,
      }));
      // The writer re-checks that each block still has a source, against its state at apply time.
      const commit = await commitAtomic(options.gateway, decision.commands, operations, {
        decidedAt: decision.generation,
        preconditions: decision.preconditions,
      });
      if (commit.ok) committedGeneration = commit.generation;
      else error = commit.error;
    }
    // Request states follow only what was committed (or that needed no commit).
    if (error === null) {
      await options.requests.saveCopyRequests(
        copyRequests.map((before, i) => ({ before, after: decision.copyRequests[i]! })),
      );
    }
  }
  const accepted = decision.decisions.filter((d) => d.accepted).length;
  await options.history.finishCycle(cycleId, {
    status: error ? "failed" : "done",
    endedMs: now(),
    committedGeneration,
    targets: decision.targets,
    accepted,
    rejected: decision.decisions.length - accepted,
    bytes: decision.totalBytes,
    rejections: { ...decision.rejections },
    error,
    decisions: [...decision.decisions],
    budget: decision.budget,
  });
  return {
    cycleId,
    mode,
    generation: decision.generation,
    committedGeneration,
    copies: decision.copies,
    bytes: decision.totalBytes,
    accepted,
    rejected: decision.decisions.length - accepted,
    rejections: { ...decision.rejections },
    seconds: (now() - started) / 1000,
    ...(error ? { error } : {}),
  };
}

/**
 * The budget as the service's clock sees it: a decision from a replica that comes back after the
 * budget is spent is abandoned like one that ran out there.
 */
function withinBudget(
  decision: DealerDecision,
  startedMs: number,
  nowMs: number,
  budgetMs: number,
): DealerDecision {
  const elapsedMs = nowMs - startedMs;
  if (decision.kind !== "decided" || elapsedMs <= budgetMs) return decision;
  const exceeded = new CycleBudgetExceeded(budgetMs, elapsedMs, "the decision on the reader replica");
  return {
    generation: decision.generation,
    kind: "abandoned",
    error: exceeded.message,
    budget: { budgetMs, elapsedMs, yields: decision.budget.yields, exceeded: true },
  };
}

/** The balancer's input: the latest recorded Detox cycle of the partition, by names. */
async function lastDetoxProtection(
  history: DetoxHistory,
  partition: string,
): Promise<NamedDetoxProtection | null> {
  const [cycle] = await history.cycles({ partition, modes: ["normal", "snapshot"], limit: 1 });
  if (!cycle) return null;
  const lines = cycle.policyText.split(/\r?\n/);
  // The reason is the condition of the protecting line, without its action word.
  const reason = (line: number) => (lines[line - 1] ?? "").trim().replace(/^\S+\s*/, "");
  const sites = (await history.sites(cycle.id)).map((s) => ({
    site: s.site,
    quota: s.quota,
    protectedBytes: s.protectedBytes,
  }));
  const protectedReplicas = (await history.decisions(cycle.id, {})).flatMap((d) =>
    d.decision === "protect"
      ? [{ site: d.site, dataset: d.dataset, size: d.size, reason: reason(d.line) }]
      : []
  );
  return { sites, protectedReplicas };
}
