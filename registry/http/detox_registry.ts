import type { DetoxLock, LockRequest } from "../requests/detox_lock.ts";
import type { AccessRecord } from "../requests/access_record.ts";
import type {
  CycleRecord as CycleView,
  DecisionRow as DecisionView,
  DetoxMode,
  DetoxRunRequest,
  DetoxRunSummary,
  SiteRow as SiteView,
} from "../requests/detox_run.ts";

/** What the Detox and popularity routes need (implemented by the composition root). */
export type { CycleView, DecisionView, DetoxMode, DetoxRunRequest, DetoxRunSummary, SiteView };

export interface DetoxRegistry {
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
    /** `datasetLike`: SQL LIKE patterns, any of which the dataset matches (`globToLike`'s superset). */
    filter: { site?: string; dataset?: string; datasetLike?: readonly string[]; limit?: number },
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
