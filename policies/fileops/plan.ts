/**
 * The file-operations plan (spec §5.2 steps 4–7) and the one retry rule.
 *
 * `planSubscription` decides what becomes of one subscription due now:
 * cancelled (its site, destination replica or file went away), done (the file
 * is already there), held (the site refuses, no source, or the retry budget
 * is spent) or queued with a source. `nextAttempt` is the only place that
 * knows the retry budget and back-off: a failed task asks it when the file
 * may be tried again, and the planner asks it whether a file may be tried at
 * all. Pure: the engine reads the store and the snapshot, and writes back
 * what this decides.
 */
import type { Snapshot } from "../../registry/inventory/mod.ts";
import { classifyFailure } from "./error_classes.ts";
import { siteAllows } from "./site_access.ts";
import { chooseSource, type SourceCandidate } from "./source_selection.ts";

/** Seconds before attempt n+1 (n ≥ 1 failures so far): 30 s doubling, at most an hour. */
export function retryDelaySeconds(failures: number): number {
  return Math.min(3600, 30 * 2 ** Math.max(0, failures - 1));
}

export type NextAttempt = { kind: "retry"; atMs: number } | { kind: "held"; reason: "all_failed" };

/** The retry budget: a file that failed `failures` times may be tried again. */
export function withinRetryBudget(failures: number, maxAttempts: number): boolean {
  return failures < maxAttempts;
}

/**
 * The retry rule: after `failures` (≥ 1) failed attempts, a file is tried
 * again after the back-off, or, once `maxAttempts` attempts have failed, held
 * as all_failed (an operator releases it).
 */
export function nextAttempt(o: { failures: number; nowMs: number; maxAttempts: number }): NextAttempt {
  if (!withinRetryBudget(o.failures, o.maxAttempts)) return { kind: "held", reason: "all_failed" };
  return { kind: "retry", atMs: o.nowMs + retryDelaySeconds(o.failures) * 1000 };
}

/** What a failed task records: its class, and when (null: never, held) the file is tried again. */
export interface FailedAttempt {
  code: string;
  exitCode: number;
  recoverable: boolean;
  retryAtMs: number | null;
}

/** A task failed with `error` after `attempts` earlier failures. */
export function failedAttempt(
  o: { attempts: number; error: unknown; nowMs: number; maxAttempts: number },
): FailedAttempt & { message: string } {
  const e = o.error;
  const code = typeof (e as { code?: unknown })?.code === "string" ? (e as { code: string }).code : null;
  const message = e instanceof Error ? e.message : String(e);
  const failure = classifyFailure(code, message);
  const next = nextAttempt({ failures: o.attempts + 1, nowMs: o.nowMs, maxAttempts: o.maxAttempts });
  return {
    code: failure.name,
    exitCode: failure.exitCode,
    recoverable: failure.recoverable,
    message,
    retryAtMs: next.kind === "held" ? null : next.atMs,
  };
}

export type HoldReason = "no_source" | "all_failed" | "site_unavailable";

/** The part of a file subscription the plan looks at. */
export interface PlannedSubscription {
  readonly id: number;
  readonly kind: "copy" | "deletion";
  readonly site: string;
  readonly dataset: string;
  readonly block: string;
  readonly lfn: string;
  readonly status: string;
  readonly holdReason: HoldReason | null;
  /** Failed attempts so far. */
  readonly attempts: number;
}

/** A recorded failure of the subscription (source null: a deletion, or a copy that never got one). */
export interface PlannedFailure {
  readonly source: string | null;
  readonly recoverable: boolean;
  readonly seq: number;
}

/** The subscription's new state; `held` with `changed: false` is already held for that reason. */
export type PlanDecision =
  | { kind: "cancel" }
  | { kind: "done" }
  | { kind: "held"; reason: HoldReason; changed: boolean }
  | { kind: "queue"; source: string | null };

export interface PlanInput {
  snapshot: Snapshot;
  subscription: PlannedSubscription;
  failures: readonly PlannedFailure[];
  /** The file's id in the catalogue; undefined when the file went away (or for a deletion). */
  fileId: number | undefined;
  maxAttempts: number;
  /** Uniform in [0, 1): which of several untried sources (spec §5.2: random). */
  random: () => number;
}

export function planSubscription(input: PlanInput): PlanDecision {
  const { snapshot, subscription: s } = input;
  const site = snapshot.site(s.site);
  if (!site) return { kind: "cancel" };
  const held = (reason: HoldReason): PlanDecision => ({
    kind: "held",
    reason,
    changed: s.status !== "held" || s.holdReason !== reason,
  });
  if (!siteAllows(site.status, s.kind === "deletion" ? "delete" : "receive")) {
    // Only the status counts here: a file held for another reason now waits for its site.
    return { kind: "held", reason: "site_unavailable", changed: s.status !== "held" };
  }
  if (s.kind === "deletion") return { kind: "queue", source: null };
  const dataset = snapshot.dataset(s.dataset);
  const block = dataset ? snapshot.block(dataset.id, s.block) : undefined;
  const dr = dataset ? snapshot.replica(dataset.id, site.id) : undefined;
  const br = dr && block ? snapshot.blockReplica(dr, block.id) : undefined;
  const fileId = input.fileId;
  if (!br || !block || fileId === undefined) return { kind: "cancel" }; // the destination replica or the file went away
  if (br.fileIds === null || br.fileIds.includes(fileId)) return { kind: "done" };
  // A budget lowered since the last failure holds the file here rather than after one more attempt.
  if (!withinRetryBudget(s.attempts, input.maxAttempts)) return held("all_failed");
  const candidates: SourceCandidate[] = [];
  for (const other of snapshot.blockReplicasOf(block)) {
    const source = snapshot.siteById(other.siteId)!;
    if (source.id === site.id || !siteAllows(source.status, "serve")) continue;
    if (other.fileIds !== null && !other.fileIds.includes(fileId)) continue;
    candidates.push({ site: source.name, tape: source.storageType === "mss" });
  }
  const choice = chooseSource(
    candidates,
    input.failures.filter((f) => f.source !== null).map((f) => ({
      source: f.source!,
      recoverable: f.recoverable,
      order: f.seq,
    })),
    input.random,
  );
  return choice.kind === "held" ? held(choice.reason) : { kind: "queue", source: choice.site };
}
