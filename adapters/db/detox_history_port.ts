/** Detox's cycle history in the database: cycles, per-site rows, decisions, policy texts. */
import type {
  CycleBudgetRecord,
  CycleRecord,
  CycleStart,
  DecisionRow,
  DetoxMode,
  SiteRow,
} from "../../registry/requests/detox_run.ts";

export type { CycleBudgetRecord, CycleRecord, CycleStart, DecisionRow, DetoxMode, SiteRow };

export interface CycleEnd {
  status: "done" | "failed";
  endedMs: number;
  iterations: number;
  evaluations: number;
  deletedBytes: number;
  committedGeneration: number | null;
  unmatchedLines: number[];
  decisions: DecisionRow[];
  sites: SiteRow[];
  /** What the cycle used of its time budget (null: not measured). */
  budget?: CycleBudgetRecord | null;
}

export interface DetoxHistory {
  startCycle(start: CycleStart): Promise<number>;
  finishCycle(id: number, end: CycleEnd): Promise<void>;
  cycles(filter: { partition?: string; modes?: DetoxMode[]; limit?: number }): Promise<CycleRecord[]>;
  cycle(id: number): Promise<CycleRecord | null>;
  sites(cycleId: number): Promise<SiteRow[]>;
  decisions(
    cycleId: number,
    filter: DecisionFilter,
  ): Promise<DecisionRow[]>;
  policyText(hash: string): Promise<string | null>;
}

/** Which decisions of a cycle: by site, exact dataset, and/or dataset `LIKE` any of the patterns. */
export interface DecisionFilter {
  site?: string;
  dataset?: string;
  /** SQL LIKE patterns (escape `\\`), any of which a dataset matches; see `globToLike`. */
  datasetLike?: readonly string[];
  limit?: number;
}
