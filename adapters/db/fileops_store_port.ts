/**
 * The durable side of file operations (spec §5.1–5.3): subscriptions and
 * their tasks, failures, and history. Several processes may share it: tasks
 * are claimed with FOR UPDATE SKIP LOCKED under a lease.
 */
export type SubscriptionKind = "copy" | "deletion";
export type SubscriptionStatus = "new" | "inbatch" | "done" | "retry" | "held" | "cancelled";
export type HoldReason = "no_source" | "all_failed" | "site_unavailable";

export interface PendingOperation {
  id: number;
  kind: SubscriptionKind;
  site: string;
  dataset: string;
  /** null: every block of the dataset. */
  blocks: string[] | null;
}

export interface NewSubscription {
  lfn: string;
  dataset: string;
  block: string;
  size: number;
  adler32: string | null;
}

export interface Subscription extends NewSubscription {
  id: number;
  kind: SubscriptionKind;
  site: string;
  status: SubscriptionStatus;
  holdReason: HoldReason | null;
  source: string | null;
  taskState: "queued" | "staging" | "active" | null;
  attempts: number;
  operationId: number | null;
}

export interface FailureRecord {
  source: string | null;
  code: string;
  exitCode: number;
  recoverable: boolean;
  message: string;
  seq: number;
}

export type PlanUpdate =
  | { id: number; status: "inbatch"; source: string | null }
  | { id: number; status: "held"; reason: HoldReason }
  | { id: number; status: "new" }
  | { id: number; status: "done" | "cancelled" };

export interface TaskOutcome {
  ok: boolean;
  /** Failures: the class and message. */
  code?: string;
  exitCode?: number;
  recoverable?: boolean;
  message?: string;
  startedMs: number;
  finishedMs: number;
  /** When to try again after a failure; null = hold as all_failed (budget spent). */
  retryAtMs?: number | null;
}

export interface TransferHistoryRow {
  id: number;
  lfn: string;
  source: string;
  destination: string;
  size: number;
  exitCode: number;
  code: string | null;
  message: string | null;
  startedMs: number;
  finishedMs: number;
}

export interface DeletionHistoryRow {
  id: number;
  lfn: string;
  site: string;
  size: number;
  exitCode: number;
  code: string | null;
  message: string | null;
  startedMs: number;
  finishedMs: number;
}

export interface FileOpsStore {
  pendingOperations(limit: number): Promise<PendingOperation[]>;
  /** The files of blocks (by dataset and block name) with id, size and checksum. */
  blockFiles(
    dataset: string,
    blocks: string[],
  ): Promise<Map<string, { id: number; lfn: string; size: number; adler32: string | null }[]>>;
  /**
   * Subscribes files for an operation (cancelling the opposite kind for the
   * same file and site) and marks the operation active, or done when empty.
   */
  subscribe(op: PendingOperation, files: NewSubscription[], nowMs: number): Promise<number>;
  /**
   * Copy subscriptions, without an operation, for files a block replica
   * lacks: the updater's step 3 (nothing is moving them) and the consistency
   * check's lost files. A file with an open subscription is left alone; one
   * whose subscription has finished (done, cancelled) is left alone too,
   * unless `renewFinished` (the consistency check: the file was lost since)
   * makes it new again. Returns how many were added or renewed.
   */
  subscribeCopies(
    files: (NewSubscription & { site: string })[],
    options: { nowMs: number; renewFinished: boolean },
  ): Promise<number>;
  /** Gives back tasks whose lease ran out, or whose worker belonged to a dead incarnation of this node. */
  recoverTasks(nowMs: number, deadWorkerPrefix?: string): Promise<number>;
  /** new/retry subscriptions due now, held ones waiting for their site, and the failures of each. */
  plannable(
    nowMs: number,
    limit: number,
  ): Promise<{ subscription: Subscription; failures: FailureRecord[] }[]>;
  applyPlan(updates: PlanUpdate[], nowMs: number): Promise<void>;
  /** Claims up to `limit` queued (or staged-and-due) tasks of a kind, for one link or site. */
  claim(
    kind: SubscriptionKind,
    filter: { site?: string; source?: string },
    worker: string,
    limit: number,
    nowMs: number,
    leaseMs: number,
  ): Promise<Subscription[]>;
  renewLeases(worker: string, ids: number[], untilMs: number): Promise<void>;
  /** Links (source → destination) and deletion sites with claimable work. */
  claimableWork(
    nowMs: number,
  ): Promise<
    {
      links: { source: string; site: string; count: number }[];
      deletionSites: { site: string; count: number }[];
    }
  >;
  /** A tape source is staging: look again at `checkAtMs`. */
  markStaging(id: number, worker: string, checkAtMs: number, nowMs: number): Promise<void>;
  finish(task: Subscription, worker: string, outcome: TaskOutcome): Promise<void>;
  doneSubscriptions(limit: number): Promise<Subscription[]>;
  /** JSON [site, dataset, block] of blocks with deletions still to do. */
  openDeletionBlocks(): Promise<Set<string>>;
  removeSubscriptions(ids: number[]): Promise<void>;
  /** Operations whose subscriptions all finished become done; those stuck on held files, failed. */
  settleOperations(nowMs: number): Promise<void>;
  release(ids: number[] | "all", nowMs: number): Promise<number>;
  current(limit: number): Promise<Subscription[]>;
  held(limit: number): Promise<(Subscription & { lastError: string | null })[]>;
  /**
   * The files of a dataset at a site (one request's work, for the web monitor), or at every site
   * without `site` (a dataset actor's state), with their last error.
   */
  filesOf(
    filter: { dataset: string; site?: string; kind?: SubscriptionKind; offset: number; limit: number },
  ): Promise<(Subscription & { lastError: string | null })[]>;
  heldSummary(): Promise<
    { site: string; kind: SubscriptionKind; reason: HoldReason; files: number; bytes: number }[]
  >;
  transferHistory(limit: number, sinceMs?: number): Promise<TransferHistoryRow[]>;
  deletionHistory(limit: number, sinceMs?: number): Promise<DeletionHistoryRow[]>;
}
