/** The registry's durable queue of asynchronous injections and invalidations (spec §8.2, `data_injections`). */
export type InjectionKind = "inject" | "delete";
export type InjectionStatus = "queued" | "applied" | "rejected";

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
}

export interface QueuedInjection {
  readonly id: number;
  readonly kind: InjectionKind;
  readonly payload: unknown;
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
}

export const INJECTION_CHANNEL = "dynamo_injections";
