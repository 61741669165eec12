import type { DetoxLock, LockRequest } from "../requests/detox_lock.ts";
import type { AccessRecord } from "../requests/access_record.ts";
import type { DetoxMode, DetoxRunRequest, DetoxRunSummary } from "../requests/detox_run.ts";

/** What the Detox and popularity routes need (implemented by the composition root). */
export type { DetoxMode, DetoxRunRequest, DetoxRunSummary };

export interface CycleView {
  id: number;
  partition: string;
  mode: string;
  policyHash: string;
  policyText: string;
  generation: number;
  startedMs: number;
  endedMs: number | null;
  timeShiftDays: number;
  comment: string | null;
  status: string;
  iterations: number | null;
  evaluations: number | null;
  deletedBytes: number | null;
  committedGeneration: number | null;
  unmatchedLines: number[];
}

export interface SiteView {
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

export interface DecisionView {
  site: string;
  dataset: string;
  decision: string;
  line: number;
  size: number;
  blocks: string[];
}

export interface DetoxPort {
  /** Whether Detox policies are configured (runs are possible). */
  configured(): boolean;
  run(
    request: DetoxRunRequest,
  ): Promise<DetoxRunSummary[] | { error: string }>;
  cycles(filter: { partition?: string; modes?: DetoxMode[]; limit?: number }): Promise<CycleView[]>;
  cycle(id: number): Promise<CycleView | null>;
  sites(cycleId: number): Promise<SiteView[]>;
  decisions(
    cycleId: number,
    filter: { site?: string; dataset?: string; limit?: number },
  ): Promise<DecisionView[]>;
  listLocks(
    filter: { activeAt?: number; user?: string; ids?: number[]; item?: string },
  ): Promise<DetoxLock[]>;
  lock(user: string, request: LockRequest): Promise<DetoxLock>;
  unlock(user: string | null, ids: number[]): Promise<number>;
  setLocks(
    user: string,
    requests: LockRequest[],
  ): Promise<{ created: number; updated: number; unlocked: number }>;
  recordAccesses(records: AccessRecord[]): Promise<number>;
}
