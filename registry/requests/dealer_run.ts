/**
 * A Dealer cycle run on request (spec §8.2, CLI `dealer run`) and what the
 * history keeps of every cycle and every proposal. Shared by the registry,
 * the Dealer agent and the history store.
 */
import type { CycleBudgetRecord } from "./detox_run.ts";

export type DealerMode = "normal" | "dry-run";

export interface DealerRunSummary {
  cycleId: number | null;
  mode: DealerMode;
  generation: number;
  committedGeneration: number | null;
  copies: number;
  bytes: number;
  accepted: number;
  rejected: number;
  rejections: Record<string, number>;
  seconds: number;
  error?: string;
}

export interface DealerCycleStart {
  partition: string;
  mode: string;
  generation: number;
  startedMs: number;
  comment: string | null;
}

export interface DealerDecisionRow {
  plugin: string;
  dataset: string;
  blocks: string[] | null;
  site: string | null;
  accepted: boolean;
  reason: string;
  why: string;
  bytes: number;
  requestId: number | null;
}

export interface DealerCycleEnd {
  status: "done" | "failed" | "skipped";
  endedMs: number;
  committedGeneration: number | null;
  targets: number;
  accepted: number;
  rejected: number;
  bytes: number;
  rejections: Record<string, number>;
  error: string | null;
  decisions: DealerDecisionRow[];
  /** What the cycle used of its time budget (null: not measured). */
  budget?: CycleBudgetRecord | null;
}

export interface DealerCycleRecord extends DealerCycleStart {
  id: number;
  status: string;
  endedMs: number | null;
  committedGeneration: number | null;
  targets: number | null;
  accepted: number | null;
  rejected: number | null;
  bytes: number | null;
  rejections: Record<string, number>;
  error: string | null;
  budget: CycleBudgetRecord | null;
}
