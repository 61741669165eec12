/**
 * A Detox cycle run on request (spec §8.2 `detox/run`, CLI `detox run`) and
 * what it did. Shared by the registry, which accepts the request, and the
 * Detox agent, which runs it.
 */

/** normal: decide and commit; dry-run: decide and record only; snapshot: record for monitoring. */
export type DetoxMode = "normal" | "dry-run" | "snapshot";
export const DETOX_MODES: readonly DetoxMode[] = ["normal", "dry-run", "snapshot"];

export interface DetoxRunRequest {
  /**
   * Only the policy of this partition; all configured policies when absent.
   * With `policy`: the partition that policy runs on, for a file without a
   * Partition line and none configured for it (`detox run --partition`).
   */
  partition?: string;
  /** One configured policy, by its file name (a campaign file, say). */
  policy?: string;
  mode: DetoxMode;
  /** Evaluate dates as if this many days had passed. */
  timeShiftDays?: number;
  comment?: string;
}

export interface DetoxRunSummary {
  cycleId: number;
  partition: string;
  mode: DetoxMode;
  /** The inventory generation the cycle decided on. */
  generation: number;
  /** The generation that committed the deletions (normal mode), else null. */
  committedGeneration: number | null;
  deletedBytes: number;
  deletions: number;
  iterations: number;
  evaluations: number;
  seconds: number;
  /** Policy lines no replica matched: usually a sign of a stale policy. */
  unmatchedLines: number[];
  error?: string;
}

/** What the history keeps of each cycle, of each site in it, and of each decision. */
export interface CycleStart {
  partition: string;
  mode: DetoxMode;
  policyHash: string;
  policyText: string;
  generation: number;
  startedMs: number;
  timeShiftDays: number;
  comment: string | null;
}

export interface DecisionRow {
  site: string;
  dataset: string;
  decision: "delete" | "keep" | "protect";
  line: number;
  size: number;
  blocks: string[];
  /** A "keep" the line did not choose: why the block replicas were held back (kept in the history). */
  reason?: string;
}

export interface SiteRow {
  site: string;
  status: string;
  quota: number;
  usedBefore: number;
  usedAfter: number;
  triggered: boolean;
  stillTriggered: boolean;
  protectedBytes: number;
  deletedBytes: number;
  keptBytes: number;
}

/**
 * What a Detox or Dealer cycle used of its time budget; `error` when it was abandoned at the budget
 * (or, for Detox, when the writer refused or rejected its commit: why nothing was committed).
 */
export interface CycleBudgetRecord {
  budgetMs: number;
  elapsedMs: number;
  yields: number;
  exceeded: boolean;
  error?: string;
}

export interface CycleRecord extends CycleStart {
  id: number;
  budget: CycleBudgetRecord | null;
  endedMs: number | null;
  status: string;
  iterations: number | null;
  evaluations: number | null;
  deletedBytes: number | null;
  committedGeneration: number | null;
  unmatchedLines: number[];
}
