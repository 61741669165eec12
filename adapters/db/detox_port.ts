/**
 * Interfaces of the Detox-related stores (implemented beside this file):
 * locks, access records, cycle history, and deletion operations.
 */
import type { DetoxLock, LockRequest } from "../../registry/requests/detox_lock.ts";
import type { AccessRecord } from "../../registry/requests/access_record.ts";
import type {
  CycleBudgetRecord,
  CycleRecord,
  CycleStart,
  DecisionRow,
  DetoxMode,
  SiteRow,
} from "../../registry/requests/detox_run.ts";

export interface LockFilter {
  /** Only locks in force at this time (Unix seconds); all (with history) when absent. */
  activeAt?: number;
  user?: string;
  ids?: number[];
  /** Item pattern (shell wildcards). */
  item?: string;
}

export interface LockStore {
  listLocks(filter: LockFilter): Promise<DetoxLock[]>;
  /** Creates a lock, or updates the caller's lock on the same item, sites and groups. */
  lock(user: string, request: LockRequest, nowMs: number): Promise<DetoxLock>;
  /** Moves locks to history. `user` null: any user's (administrators). Returns how many. */
  unlock(user: string | null, ids: number[], nowMs: number): Promise<number>;
  /** Makes the caller's active locks exactly `requests`. */
  setLocks(
    user: string,
    requests: LockRequest[],
    nowMs: number,
  ): Promise<{ created: number; updated: number; unlocked: number }>;
}

export interface AccessStore {
  /** Adds or replaces (dataset, site, day) records; returns how many. */
  recordAccesses(records: readonly AccessRecord[]): Promise<number>;
  accessesSince(day: number): Promise<AccessRecord[]>;
}

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
    filter: { site?: string; dataset?: string; limit?: number },
  ): Promise<DecisionRow[]>;
  policyText(hash: string): Promise<string | null>;
}
