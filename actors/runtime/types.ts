import type { Clock } from "./clock.ts";

/** A typed handle to an actor. The address is stable across restarts. */
export interface ActorRef<M> {
  readonly address: string;
  /** Enqueues a message; never blocks. Undeliverable messages go to dead letters. */
  tell(msg: M): void;
}

export type RestartType = "permanent" | "transient" | "temporary";
export type Strategy = "one_for_one" | "one_for_all" | "rest_for_one";
export type OverflowPolicy = "reject" | "drop_oldest";

export interface MailboxOptions {
  /** Maximum queued user messages (system messages are not bounded). */
  capacity: number;
  /** `reject` sends the new message to dead letters; `drop_oldest` evicts the oldest. */
  overflow: OverflowPolicy;
}

export interface RestartIntensity {
  /** More than `maxRestarts` restarts within `withinMs` makes the supervisor give up. */
  maxRestarts: number;
  withinMs: number;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor?: number;
}

/** How an actor supervises its children. */
export interface SupervisionOptions {
  strategy: Strategy;
  intensity: RestartIntensity;
  backoff?: Backoff;
}

export type StopReason =
  | { kind: "normal" }
  | { kind: "shutdown" }
  | { kind: "failure"; error: unknown }
  | { kind: "restart"; error: unknown };

export interface Logger {
  debug(message: string, props?: Record<string, unknown>): void;
  info(message: string, props?: Record<string, unknown>): void;
  warn(message: string, props?: Record<string, unknown>): void;
  error(message: string, props?: Record<string, unknown>): void;
}

/** Keyed timers owned by one actor incarnation; all are cancelled on stop and restart. */
export interface Timers<M> {
  startSingle(key: string, delayMs: number, msg: M): void;
  startPeriodic(key: string, intervalMs: number, msg: M): void;
  cancel(key: string): void;
  isActive(key: string): boolean;
  cancelAll(): void;
}

export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly address: string;
  /** Increments on every restart; the first incarnation is 1. */
  readonly incarnation: number;
  readonly clock: Clock;
  readonly timers: Timers<M>;
  /**
   * Aborted when this incarnation is asked to stop (its own stop, or an
   * ancestor's): a long handler finishes what it has started, takes nothing
   * new, and returns, so that the stop does not wait for its timeout.
   */
  readonly stopping: AbortSignal;
  readonly log: Logger;
  /** Starts a child supervised by this actor under this actor's supervision options. */
  spawn<C>(spec: ChildSpec<C>): ActorRef<C>;
  /** Stops one of this actor's children (reverse-order shutdown of its own children first). */
  stopChild(id: string): Promise<void>;
  /** Current children in start order. */
  children(): readonly ActorRef<unknown>[];
  /** Stops this actor normally once the current message has been handled. */
  stopSelf(): void;
  /**
   * Runs `work` outside the handler and tells its outcome to this actor as a message (a handler never
   * awaits: docs/architecture.md, the actor runtime). The system counts it as busy until that message is in the mailbox, so
   * `runUntilIdle` waits for real I/O in flight. The returned promise settles once the message is sent.
   */
  pipe<T>(work: Promise<T>, onValue: (value: T) => M, onError: (error: unknown) => M): Promise<void>;
}

/**
 * What an actor does. `init` builds the state (restarted actors rebuild it
 * from durable storage here); `receive` handles one message at a time.
 */
export interface Behavior<M, S = unknown> {
  init(ctx: ActorContext<M>): S | Promise<S>;
  receive(state: S, msg: M, ctx: ActorContext<M>): S | Promise<S>;
  onStop?(state: S, ctx: ActorContext<M>, reason: StopReason): void | Promise<void>;
  onRestart?(ctx: ActorContext<M>, error: unknown): void | Promise<void>;
  /** How this actor supervises the children it spawns (default: one_for_one, 3 restarts in 5 s). */
  supervision?: SupervisionOptions;
}

export interface ChildSpec<M> {
  /** Unique among siblings; the last segment of the address. */
  id: string;
  // deno-lint-ignore no-explicit-any
  behavior: Behavior<M, any> | (() => Behavior<M, any>);
  restart: RestartType;
  /** How long a stopping child may take to finish its current message. */
  shutdownMs?: number;
  mailbox?: Partial<MailboxOptions>;
}

export const DEFAULT_MAILBOX: MailboxOptions = { capacity: 10_000, overflow: "reject" };
export const DEFAULT_SUPERVISION: SupervisionOptions = {
  strategy: "one_for_one",
  intensity: { maxRestarts: 3, withinMs: 5_000 },
};
export const DEFAULT_SHUTDOWN_MS = 5_000;

/** Raised by a supervisor when its children restart more often than its intensity allows. */
export class RestartIntensityExceeded extends Error {
  constructor(readonly supervisor: string, readonly lastError: unknown) {
    super(`Supervisor "${supervisor}" exceeded its restart intensity`, { cause: lastError });
    this.name = "RestartIntensityExceeded";
  }
}
