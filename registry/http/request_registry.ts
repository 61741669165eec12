import type { AppLock, LockableApp } from "../requests/app_lock.ts";
import type { CopyRequest, CopySubmission } from "../requests/copy_request.ts";
import type {
  DealerCycleRecord,
  DealerDecisionRow,
  DealerMode,
  DealerRunSummary,
} from "../requests/dealer_run.ts";
import type { DeletionRequest, DeletionSubmission } from "../requests/deletion_request.ts";
import type { JobRecord } from "../requests/job_record.ts";

export type { DealerCycleRecord, DealerDecisionRow, DealerMode, DealerRunSummary };

export interface RequestQuery {
  ids?: number[];
  user?: string;
  item?: string;
  site?: string;
  statuses?: string[];
  all?: boolean;
  /** The newest requests to look through (the store's default otherwise). */
  limit?: number;
}

/** What the request, application-lock, demand and Dealer routes need (implemented by the composition root). */
export interface RequestRegistry {
  submitCopy(user: string, s: CopySubmission): Promise<{ request: CopyRequest; created: boolean }>;
  submitDeletion(
    user: string,
    s: DeletionSubmission,
  ): Promise<{ request: DeletionRequest; created: boolean }>;
  copyRequests(q: RequestQuery): Promise<CopyRequest[]>;
  deletionRequests(q: RequestQuery): Promise<DeletionRequest[]>;
  /** `user` null = an administrator. A string answer is why not. */
  cancelCopy(id: number, user: string | null): Promise<CopyRequest | string>;
  lockApp(lock: Omit<AppLock, "since">): Promise<{ ok: boolean; lock: AppLock }>;
  unlockApp(app: LockableApp, user: string | null): Promise<boolean>;
  appLocks(): Promise<AppLock[]>;
  recordJobs(records: JobRecord[]): Promise<number>;
  /** Whether a Dealer is configured (runs are possible). */
  dealerConfigured(): boolean;
  runDealer(mode: DealerMode, comment: string | null): Promise<DealerRunSummary>;
  dealerCycles(limit: number): Promise<DealerCycleRecord[]>;
  dealerDecisions(
    filter: { cycleId?: number; dataset?: string; limit?: number },
  ): Promise<(DealerDecisionRow & { cycleId: number })[]>;
}
