/** The registry's durable queue of asynchronous injections and invalidations (spec §8.2, `data_injections`). */
export type InjectionKind = "inject" | "delete";
/** `failed`: moved aside after failing to apply twice (a poison injection); `lastError` says why. */
export type InjectionStatus = "queued" | "applied" | "rejected" | "failed";

/** Attempts after which a queued injection that still fails is moved aside. */
export const MAX_INJECTION_ATTEMPTS = 2;

export interface InjectionRecord {
  readonly id: number;
  readonly kind: InjectionKind;
  readonly user: string;
  readonly createdMs: number;
  readonly status: InjectionStatus;
  /** Counts and per-command outcomes once settled. */
  readonly result: unknown;
  /** Journal sequence of the batch that applied it. */
  readonly appliedSeq: number | null;
  /** Times it was handed to the writer. */
  readonly attempts: number;
  /** Why its last attempt failed (a writer or database error, not a validation error). */
  readonly lastError: string | null;
  readonly updatedMs: number;
}

export interface QueuedInjection {
  readonly id: number;
  readonly kind: InjectionKind;
  readonly payload: unknown;
  readonly attempts: number;
  readonly lastError: string | null;
}

export interface InjectionFilter {
  status?: InjectionStatus;
  /** Only ids below this (paging backwards from the newest). */
  beforeId?: number;
  limit: number;
}

export interface InjectionSettlement {
  readonly id: number;
  readonly status: "applied" | "rejected";
  readonly result: unknown;
}

export interface InjectionQueue {
  enqueue(kind: InjectionKind, payload: unknown, user: string, nowMs: number): Promise<number>;
  /** Queued injections with id > afterId, oldest first. */
  queued(afterId: number, limit: number): Promise<QueuedInjection[]>;
  get(id: number): Promise<InjectionRecord | null>;
  /** Of these ids, the ones no longer queued (applied or rejected). */
  settled(ids: number[]): Promise<Set<number>>;
  /** Settles injections whose commands changed nothing (all rejected). */
  settle(settlements: InjectionSettlement[], nowMs: number): Promise<void>;
  /** Counts an attempt, durably, before the injection is handed to the writer. */
  beginAttempt(id: number, nowMs: number): Promise<void>;
  /**
   * Records why an attempt failed; with `moveAside` the injection leaves the
   * queue as `failed`. No effect on an injection that is no longer queued.
   */
  recordFailure(id: number, error: string, moveAside: boolean, nowMs: number): Promise<void>;
  /** Newest first. */
  list(filter: InjectionFilter): Promise<InjectionRecord[]>;
}

export const INJECTION_CHANNEL = "dynamo_injections";
