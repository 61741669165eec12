import type { CommandOutcome, Snapshot, Submission } from "../inventory/mod.ts";
import type { HeavyRead } from "../inventory/reads/heavy_read.ts";

import type { Authenticator } from "./authenticator.ts";

/** Reads of the inventory: readiness and the latest committed snapshot. */
export interface InventoryReader {
  /** False while the inventory is loading (reads answer 503). */
  isReady(): boolean;
  /** The latest committed snapshot (O(1)). */
  snapshot(): Snapshot;
  /**
   * Answers a heavy read (statistics, large listings) on a reader replica in a Worker once it has
   * applied `generation` (docs/parallel_readers.md), within `budgetMs` of real time; null when no
   * replica is ready (none runs, or it is being built): the route then answers in-process. Rejects
   * when the replica does not catch up within part of the budget (the route answers in-process) or
   * when `signal` aborts (the request's deadline or its client left).
   */
  replicaRead?(
    read: HeavyRead,
    generation: number,
    budgetMs: number,
    signal?: AbortSignal,
  ): Promise<unknown> | null;
}

/** Writes to the inventory: commands applied synchronously through the writer. */
export interface CommandSubmitter {
  /** Applies commands; resolves once durable. May throw `UnavailableError`. */
  submit(submission: Submission, signal?: AbortSignal): Promise<SubmitResult>;
}

/** The asynchronous injection queue: enqueue, look up, list. */
export interface InjectionTracker {
  /** Queues an asynchronous injection or invalidation; returns its id. May throw `UnavailableError`. */
  enqueueInjection(kind: "inject" | "delete", payload: unknown, user: string): Promise<number>;
  injection(id: number): Promise<InjectionView | null>;
  /** Queued and settled injections, newest first. */
  injections(filter: { status?: InjectionState; beforeId?: number; limit: number }): Promise<InjectionView[]>;
}

/** The service's own metrics in Prometheus text. */
export interface MetricsSource {
  /** Prometheus text of the service's metrics (the HTTP layer appends its own). */
  metrics(): string | Promise<string>;
}

/**
 * Everything the registry app needs from the inventory side of the service:
 * reads, writes, injections, authentication, metrics and the time. The
 * composition root implements it over the actors and stores; the HTTP layer
 * never sees them directly (docs/architecture.md). Routes take the narrowest part
 * they use (`InventoryReader`, `CommandSubmitter`, `InjectionTracker`).
 */
export interface InventoryAccess
  extends InventoryReader, CommandSubmitter, InjectionTracker, Authenticator, MetricsSource {
  /** Milliseconds since the Unix epoch, from the service's injected clock. */
  now(): number;
}

export type SubmitResult =
  /** `refused`: a precondition did not hold (a conflicting operation in flight); nothing was applied. */
  | { ok: true; generation: number; outcomes: CommandOutcome[]; refused?: string }
  | { ok: false; error: string };

/** `failed`: moved aside after failing to apply twice (see `lastError`). */
export const INJECTION_STATES = ["queued", "applied", "rejected", "failed"] as const;
export type InjectionState = typeof INJECTION_STATES[number];

export interface InjectionView {
  id: number;
  kind: string;
  user: string;
  createdMs: number;
  status: string;
  result: unknown;
  appliedSeq: number | null;
  attempts: number;
  lastError: string | null;
}

/** The service cannot take this request now; the client should retry (HTTP 503 + Retry-After). */
export class UnavailableError extends Error {
  constructor(message: string, readonly retryAfterSeconds = 5) {
    super(message);
    this.name = "UnavailableError";
  }
}
