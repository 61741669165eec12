import { getLogger } from "@logtape/logtape";
import { ActorCell, describeError } from "./actor_cell.ts";
import type { CellHost } from "./cell_host.ts";
import { type Clock, type IdGen, SequentialIdGen, SystemClock, yieldToEventLoop } from "./clock.ts";
import { type DeadLetterReason, DeadLetters, InspectionHub } from "./inspection.ts";
import type { ActorRef, Behavior, ChildSpec, Logger, SupervisionOptions } from "./types.ts";

export interface ActorSystemOptions {
  clock?: Clock;
  /** Identifiers the system makes (ask reply addresses); sequential by default. */
  ids?: IdGen;
  /** How the root supervises top-level actors. */
  supervision?: SupervisionOptions;
  logger?: (address: string) => Logger;
  /** Called once when the root supervisor gives up (the process should exit non-zero). */
  onFatal?: (error: unknown) => void;
}

// deno-lint-ignore no-explicit-any
const guardianBehavior: Behavior<any, null> = {
  init: () => null,
  receive: (s) => s,
};

/** Owns every actor cell, their addresses, dead letters and inspection events. */
export class ActorSystem {
  readonly clock: Clock;
  readonly ids: IdGen;
  readonly inspection = new InspectionHub();
  readonly deadLetters = new DeadLetters();
  // deno-lint-ignore no-explicit-any
  readonly #cells = new Map<string, ActorCell<any>>();
  // deno-lint-ignore no-explicit-any
  readonly #guardian: ActorCell<any>;
  readonly #logger: (address: string) => Logger;
  readonly #onFatal: (error: unknown) => void;
  #busy = 0;
  #idleWaiters: (() => void)[] = [];
  #fatal: PromiseWithResolvers<unknown> = Promise.withResolvers<unknown>();
  #fatalError: unknown = undefined;
  #terminated = false;

  constructor(options: ActorSystemOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    this.ids = options.ids ?? new SequentialIdGen();
    this.#logger = options.logger ?? defaultLogger;
    this.#onFatal = options.onFatal ?? (() => {});
    // deno-lint-ignore no-this-alias
    const system = this;
    const host: CellHost = {
      clock: this.clock,
      inspection: this.inspection,
      logger: (address) => system.#logger(address),
      refFor: <M>(address: string) => system.refFor<M>(address),
      register: (cell) => system.#cells.set(cell.address, cell),
      unregister: (cell) => {
        if (system.#cells.get(cell.address) === cell) system.#cells.delete(cell.address);
      },
      deadLetter: (recipient, msg, reason, error) => system.#deadLetter(recipient, msg, reason, error),
      busy: (delta) => system.#adjustBusy(delta),
      fatal: (error) => system.#raiseFatal(error),
    };
    // The root supervisor has no behaviour of its own.
    // deno-lint-ignore no-explicit-any
    this.#guardian = new ActorCell<any>(
      host,
      null,
      { id: "root", behavior: guardianBehavior, restart: "permanent" },
      options.supervision ?? { strategy: "one_for_one", intensity: { maxRestarts: 3, withinMs: 5_000 } },
    );
    this.#cells.set("/", this.#guardian);
  }

  /** Starts a top-level actor at `/<id>`. */
  spawn<M>(spec: ChildSpec<M>): ActorRef<M> {
    if (this.#terminated) throw new Error("The actor system has been shut down");
    return this.#guardian.spawnChild(spec).ref;
  }

  /** A ref by address; it reaches whatever incarnation lives there when a message is sent. */
  refFor<M>(address: string): ActorRef<M> {
    return new AddressRef<M>(address, this);
  }

  /** Whether a live actor exists at the address. */
  exists(address: string): boolean {
    return this.#cells.get(address)?.isAlive ?? false;
  }

  /** Current incarnation number of the actor at an address (0 if none). */
  incarnationOf(address: string): number {
    return this.#cells.get(address)?.incarnation ?? 0;
  }

  /** Queued user messages of the actor at an address (for metrics and tests). */
  mailboxDepth(address: string): number {
    return this.#cells.get(address)?.mailbox.size ?? 0;
  }

  /** Addresses of every live actor, in no particular order. */
  addresses(): string[] {
    return [...this.#cells.keys()];
  }

  /** Delivers to the actor at `address`, or to dead letters. */
  deliver(address: string, msg: unknown): void {
    const cell = this.#cells.get(address);
    if (!cell || !cell.isAlive) {
      this.#deadLetter(address, msg, "no such actor");
      return;
    }
    cell.tell(msg);
  }

  /**
   * Kills the live incarnation at `address` (a failure its supervisor handles,
   * not a stop): for operators' and tests' fault injection. False if none.
   */
  kill(address: string, reason = "killed"): boolean {
    return this.#cells.get(address)?.kill(new ActorKilledError(address, reason)) ?? false;
  }

  /** Stops a top-level actor (and its subtree) for good. */
  async stop(ref: ActorRef<unknown>): Promise<void> {
    const cell = this.#cells.get(ref.address);
    if (!cell) return;
    if (cell.parent) {
      const i = cell.parent.children.indexOf(cell);
      if (i >= 0) cell.parent.children.splice(i, 1);
    }
    await cell.stop({ kind: "shutdown" });
  }

  /** Stops every actor in reverse start order. */
  async shutdown(): Promise<void> {
    if (this.#terminated) return;
    this.#terminated = true;
    for (const child of [...this.#guardian.children].reverse()) {
      await child.stop({ kind: "shutdown" });
      const i = this.#guardian.children.indexOf(child);
      if (i >= 0) this.#guardian.children.splice(i, 1);
    }
  }

  /** Resolves with the error once the root supervisor has given up. */
  get fatal(): Promise<unknown> {
    return this.#fatal.promise;
  }

  get fatalError(): unknown {
    return this.#fatalError;
  }

  /**
   * Resolves when no actor has work: every mailbox is empty and no handler is
   * running. Timers are not work: advance the TestClock to fire them.
   */
  async runUntilIdle(): Promise<void> {
    for (;;) {
      if (this.#busy > 0) {
        await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      }
      // Let promise chains (ask replies, I/O completions) settle, then re-check.
      await yieldToEventLoop();
      if (this.#busy === 0) return;
    }
  }

  #adjustBusy(delta: number): void {
    this.#busy += delta;
    if (this.#busy === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  #deadLetter(recipient: string, msg: unknown, reason: DeadLetterReason, error?: string): void {
    this.deadLetters.record({ recipient, msg, reason, ...(error !== undefined ? { error } : {}) });
    this.inspection.emit({ type: "dead_letter", recipient, msg, reason });
  }

  #raiseFatal(error: unknown): void {
    if (this.#fatalError !== undefined) return;
    this.#fatalError = error ?? new Error("unknown fatal error");
    this.#logger("/").error("Root supervisor gave up", { error: describeError(error) });
    this.#fatal.resolve(error);
    this.#onFatal(error);
  }
}

/** The failure a killed actor's supervisor sees. */
export class ActorKilledError extends Error {
  constructor(readonly address: string, reason: string) {
    super(`${address} was killed: ${reason}`);
    this.name = "ActorKilledError";
  }
}

class AddressRef<M> implements ActorRef<M> {
  constructor(readonly address: string, private readonly system: ActorSystem) {}
  tell(msg: M): void {
    this.system.deliver(this.address, msg);
  }
  toString(): string {
    return `ActorRef(${this.address})`;
  }
}

function defaultLogger(address: string): Logger {
  const logger = getLogger(["dynamo", "actor"]).with({ actor: address });
  return {
    debug: (m, p) => logger.debug(m, p ?? {}),
    info: (m, p) => logger.info(m, p ?? {}),
    warn: (m, p) => logger.warn(m, p ?? {}),
    error: (m, p) => logger.error(m, p ?? {}),
  };
}
