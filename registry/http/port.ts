import type { CommandOutcome, Snapshot, Submission } from "../inventory/mod.ts";

/**
 * Everything the HTTP registry needs from the rest of the service. The
 * composition root implements it over the actors and stores; the HTTP layer
 * never sees them directly (docs/architecture.md).
 */
export interface RegistryPort {
  /** False while the inventory is loading (reads answer 503). */
  isReady(): boolean;
  /** The latest committed snapshot (O(1)). */
  snapshot(): Snapshot;
  /** Applies commands; resolves once durable. May throw `UnavailableError`. */
  submit(submission: Submission, signal?: AbortSignal): Promise<SubmitResult>;
  /** Queues an asynchronous injection or invalidation; returns its id. */
  enqueueInjection(kind: "inject" | "delete", payload: unknown, user: string): Promise<number>;
  injection(id: number): Promise<InjectionView | null>;
  /** Queued and settled injections, newest first. */
  injections(filter: { status?: InjectionState; beforeId?: number; limit: number }): Promise<InjectionView[]>;
  authenticateToken(token: string): Promise<Principal | null>;
  authenticateDn(dn: string): Promise<Principal | null>;
  /** Prometheus text of the service's metrics (the HTTP layer appends its own). */
  metrics(): string | Promise<string>;
  now(): number;
}

export type SubmitResult =
  | { ok: true; generation: number; outcomes: CommandOutcome[] }
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

export interface Principal {
  readonly user: string;
  readonly authorizations: readonly { readonly role: string; readonly target: string }[];
}

/** The service cannot take this request now; the client should retry (HTTP 503 + Retry-After). */
export class UnavailableError extends Error {
  constructor(message: string, readonly retryAfterSeconds = 5) {
    super(message);
    this.name = "UnavailableError";
  }
}
