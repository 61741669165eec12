/** What the Dealer, the request tracker and their routes need from the database. */
import type { AppLock, LockableApp } from "../../registry/requests/app_lock.ts";
import type { CopyRequest, CopySubmission } from "../../registry/requests/copy_request.ts";
import type { DeletionRequest, DeletionSubmission } from "../../registry/requests/deletion_request.ts";
import type { JobRecord } from "../../registry/requests/job_record.ts";
import type {
  DealerCycleEnd,
  DealerCycleRecord,
  DealerCycleStart,
  DealerDecisionRow,
} from "../../registry/requests/dealer_run.ts";

export type { DealerCycleEnd, DealerCycleRecord, DealerCycleStart, DealerDecisionRow };

export interface RequestFilter {
  ids?: number[];
  user?: string;
  /** Requests naming this item (exact) … */
  item?: string;
  /** … or this site (exact, or a pattern the request listed). */
  site?: string;
  statuses?: string[];
  /** Without it, only the latest request for an item and site. */
  all?: boolean;
  limit?: number;
}

export type Created<T> = { request: T; created: boolean };

export interface RequestStore {
  /** Creates a copy request, or re-touches the caller's identical open one (group and n updatable while new). */
  submitCopy(user: string, s: CopySubmission, nowMs: number): Promise<Created<CopyRequest>>;
  submitDeletion(user: string, s: DeletionSubmission, nowMs: number): Promise<Created<DeletionRequest>>;
  openCopyRequests(): Promise<CopyRequest[]>;
  openDeletionRequests(): Promise<DeletionRequest[]>;
  /**
   * Writes requests the Dealer or tracker changed, each only if nobody changed it since it was read
   * (its `updatedAt` as read is passed along); returns how many were written.
   */
  saveCopyRequests(changes: readonly { before: CopyRequest; after: CopyRequest }[]): Promise<number>;
  saveDeletionRequests(
    changes: readonly { before: DeletionRequest; after: DeletionRequest }[],
  ): Promise<number>;
  copyRequests(filter: RequestFilter): Promise<CopyRequest[]>;
  deletionRequests(filter: RequestFilter): Promise<DeletionRequest[]>;
  /** Cancels a copy request while it is new; `user` null = an administrator. */
  cancelCopy(id: number, user: string | null, nowMs: number): Promise<CopyRequest | string>;
}

export interface AppLockStore {
  /** Takes the lock, or returns the holder's lock when somebody else holds it. */
  lockApp(lock: AppLock): Promise<{ ok: true; lock: AppLock } | { ok: false; lock: AppLock }>;
  /** Releases it (`user` null = an administrator); false if not held (by that user). */
  unlockApp(app: LockableApp, user: string | null): Promise<boolean>;
  appLocks(): Promise<AppLock[]>;
}

export interface DemandStore {
  recordJobs(records: readonly JobRecord[]): Promise<number>;
  jobsSince(seconds: number): Promise<JobRecord[]>;
}

export interface DealerHistory {
  startCycle(start: DealerCycleStart): Promise<number>;
  finishCycle(id: number, end: DealerCycleEnd): Promise<void>;
  cycles(filter: { limit?: number; modes?: string[] }): Promise<DealerCycleRecord[]>;
  cycle(id: number): Promise<DealerCycleRecord | null>;
  decisions(filter: { cycleId?: number; dataset?: string; limit?: number }): Promise<
    (DealerDecisionRow & { cycleId: number })[]
  >;
  /** Finished copy operations per site since a time: the reliability history. */
  transferOutcomes(sinceMs: number): Promise<Map<string, { done: number; failed: number }>>;
}
