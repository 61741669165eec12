import { sleep, type TimerHandle, yieldToEventLoop } from "./clock.ts";
import { Mailbox } from "./mailbox.ts";
import { restartDecision, RestartHistory } from "./restart_policy.ts";
import { KeyedTimers } from "./timers.ts";
import {
  type ActorContext,
  type ActorRef,
  type Behavior,
  type ChildSpec,
  DEFAULT_MAILBOX,
  DEFAULT_SHUTDOWN_MS,
  DEFAULT_SUPERVISION,
  type Logger,
  RestartIntensityExceeded,
  type StopReason,
  type SupervisionOptions,
} from "./types.ts";
import type { CellHost } from "./cell_host.ts";

type Status = "starting" | "running" | "failed" | "stopping" | "stopped";

/** Messages of the priority lane: handled before any user message. */
type SystemMessage =
  // deno-lint-ignore no-explicit-any
  | { kind: "child_failed"; child: ActorCell<any>; error: unknown }
  // deno-lint-ignore no-explicit-any
  | { kind: "child_stopped"; child: ActorCell<any> }
  | { kind: "restart_children"; ids: string[]; error: unknown }
  | { kind: "stop"; reason: StopReason };

/** Messages handled per turn before yielding to the event loop (fairness with I/O). */
const TURN = 1024;

/**
 * One actor: its mailbox, its current incarnation's state and timers, and its
 * children. The cell survives restarts, so refs to its address stay valid.
 */
// deno-lint-ignore no-explicit-any
export class ActorCell<M, S = any> {
  readonly address: string;
  readonly mailbox: Mailbox<M>;
  readonly ref: ActorRef<M>;
  readonly log: Logger;
  // deno-lint-ignore no-explicit-any
  readonly children: ActorCell<any>[] = [];
  incarnation = 0;

  #status: Status = "starting";
  #behavior!: Behavior<M, S>;
  #state: S | undefined;
  #timers!: KeyedTimers<M>;
  #system: SystemMessage[] = [];
  #running = false;
  #needsInit = true;
  #stopRequested = false;
  #restartHistory = new RestartHistory();
  #stopped: PromiseWithResolvers<void> = Promise.withResolvers<void>();
  #ctx: ActorContext<M>;
  #restartError: unknown = undefined;
  #stopping = new AbortController();

  constructor(
    readonly host: CellHost,
    // deno-lint-ignore no-explicit-any
    readonly parent: ActorCell<any> | null,
    readonly spec: ChildSpec<M>,
    readonly supervisionOverride?: SupervisionOptions,
  ) {
    this.address = parent ? `${parent.address === "/" ? "" : parent.address}/${spec.id}` : "/";
    this.mailbox = new Mailbox<M>({ ...DEFAULT_MAILBOX, ...spec.mailbox });
    this.log = host.logger(this.address);
    this.ref = host.refFor<M>(this.address);
    // deno-lint-ignore no-this-alias
    const cell = this;
    this.#ctx = {
      get self() {
        return cell.ref;
      },
      address: this.address,
      get incarnation() {
        return cell.incarnation;
      },
      clock: host.clock,
      get timers() {
        return cell.#timers;
      },
      get stopping() {
        return cell.#stopping.signal;
      },
      log: this.log,
      spawn: <C>(childSpec: ChildSpec<C>) => cell.spawnChild(childSpec).ref,
      stopChild: (id: string) => cell.#stopChildById(id),
      children: () => cell.children.map((c) => c.ref),
      stopSelf: () => {
        cell.#stopRequested = true;
      },
      pipe: <T>(work: Promise<T>, onValue: (value: T) => M, onError: (error: unknown) => M) => {
        host.busy(+1);
        return work.then((value) => cell.ref.tell(onValue(value)), (error) => cell.ref.tell(onError(error)))
          .finally(() => host.busy(-1));
      },
    };
    this.#newIncarnation();
  }

  get status(): Status {
    return this.#status;
  }

  get isAlive(): boolean {
    return this.#status !== "stopped";
  }

  /** Resolves when this cell has stopped for good. */
  get stopped(): Promise<void> {
    return this.#stopped.promise;
  }

  get supervision(): SupervisionOptions {
    return this.supervisionOverride ?? this.#behavior.supervision ?? DEFAULT_SUPERVISION;
  }

  // ---- delivery -------------------------------------------------------------

  tell(msg: M): void {
    if (this.#status === "stopped" || this.#status === "stopping") {
      this.host.deadLetter(this.address, msg, "stopped");
      return;
    }
    const overflow = this.mailbox.push(msg);
    if (overflow) this.host.deadLetter(this.address, overflow.overflow, "mailbox full");
    this.#schedule();
  }

  #sendSystem(msg: SystemMessage): void {
    if (this.#status === "stopped") return;
    this.#system.push(msg);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#running) return;
    this.#running = true;
    this.host.busy(+1);
    queueMicrotask(() => {
      this.#run().finally(() => {
        this.#running = false;
        this.host.busy(-1);
        // Something may have arrived after the loop decided to exit.
        if (this.#hasWork()) this.#schedule();
      });
    });
  }

  #hasWork(): boolean {
    if (this.#status === "stopped") return false;
    if (this.#system.length > 0) return true;
    return (this.#status === "running" || (this.#status === "starting" && this.#needsInit)) &&
      (this.mailbox.size > 0 || this.#needsInit);
  }

  // ---- the processing loop --------------------------------------------------

  async #run(): Promise<void> {
    let handled = 0;
    for (;;) {
      if (this.#status === "stopped") return;
      const sys = this.#system.shift();
      if (sys) {
        await this.#handleSystem(sys);
        continue;
      }
      if (this.#status === "starting" && this.#needsInit) {
        await this.#init();
        continue;
      }
      if (this.#status !== "running") return;
      if (this.#stopRequested) {
        await this.#stopNormally();
        return;
      }
      const msg = this.mailbox.shift();
      if (msg === undefined) return;
      await this.#receive(msg);
      if (++handled % TURN === 0) await yieldToEventLoop();
    }
  }

  async #init(): Promise<void> {
    this.#needsInit = false;
    const incarnation = this.incarnation;
    try {
      if (incarnation > 1 && this.#behavior.onRestart) {
        await this.#behavior.onRestart(this.#ctx, this.#restartError);
      }
      const state = await this.#behavior.init(this.#ctx);
      if (this.incarnation !== incarnation || this.#status !== "starting") return;
      this.#state = state;
      this.#status = "running";
    } catch (error) {
      if (this.incarnation === incarnation) await this.#fail(error);
    }
  }

  async #receive(msg: M): Promise<void> {
    const incarnation = this.incarnation;
    if (this.host.inspection.wantsMessages) {
      this.host.inspection.emit({ type: "message", address: this.address, msg });
    }
    try {
      const result = this.#behavior.receive(this.#state as S, msg, this.#ctx);
      const next = isThenable(result) ? await result : result;
      // A stop that timed out may have finalized the cell meanwhile.
      if (this.incarnation === incarnation && this.#status === "running") this.#state = next;
    } catch (error) {
      if (this.incarnation === incarnation && this.#status === "running") {
        // The message it crashed on is not retried by the next incarnation: it is a dead letter.
        this.host.deadLetter(this.address, msg, "crashed", describeError(error));
        await this.#fail(error);
      }
    }
  }

  // ---- failure and supervision ----------------------------------------------

  /**
   * Fails the current incarnation now, as if its handler had thrown (Erlang's
   * `exit(Pid, kill)`): its supervisor then restarts it or gives up as its
   * spec says. A message being handled is abandoned: its result is dropped.
   * Returns false when there is no live incarnation to kill.
   */
  kill(error: unknown): boolean {
    if (this.#status !== "running" && this.#status !== "starting") return false;
    this.host.busy(+1);
    this.#fail(error).finally(() => this.host.busy(-1));
    return true;
  }

  async #fail(error: unknown): Promise<void> {
    this.#status = "failed";
    this.log.error("Actor {actor} failed: {error}", { error: describeError(error) });
    this.host.inspection.emit({ type: "failure", address: this.address, error });
    await this.#terminateIncarnation({ kind: "failure", error });
    if (this.parent) this.parent.#sendSystem({ kind: "child_failed", child: this, error });
    else this.host.fatal(error);
  }

  async #handleSystem(msg: SystemMessage): Promise<void> {
    switch (msg.kind) {
      case "stop":
        await this.#finalStop(msg.reason);
        return;
      case "child_failed":
        await this.#onChildExit(msg.child, msg.error, true);
        return;
      case "child_stopped":
        await this.#onChildExit(msg.child, undefined, false);
        return;
      case "restart_children":
        this.#restartChildren(msg.ids, msg.error);
        return;
    }
  }

  // deno-lint-ignore no-explicit-any
  async #onChildExit(child: ActorCell<any>, error: unknown, failed: boolean): Promise<void> {
    if (!this.children.includes(child) || this.#status === "stopped" || this.#status === "stopping") return;
    const decision = restartDecision(child.spec.restart, failed);
    if (decision === "remove") {
      this.#removeChild(child);
      child.#finalize({ kind: failed ? "failure" : "normal", error } as StopReason, "removed");
      return;
    }
    const { intensity, strategy, backoff } = this.supervision;
    const now = this.host.clock.now();
    if (!this.#restartHistory.admit(now, intensity)) {
      const giveUp = new RestartIntensityExceeded(this.address, error);
      this.log.error("Restart intensity exceeded; stopping children", {
        child: child.address,
        maxRestarts: intensity.maxRestarts,
        withinMs: intensity.withinMs,
      });
      this.host.inspection.emit({ type: "escalate", address: this.address, error: giveUp });
      await this.#stopAllChildren({ kind: "shutdown" });
      await this.#fail(giveUp);
      return;
    }
    const index = this.children.indexOf(child);
    const affected = strategy === "one_for_one"
      ? [child]
      : strategy === "one_for_all"
      ? [...this.children]
      : this.children.slice(index);
    // Siblings that are still running stop first, in reverse start order.
    for (const sibling of [...affected].reverse()) {
      if (sibling !== child && sibling.#status !== "failed") {
        await sibling.#stopForRestart(error);
      }
    }
    const ids = affected.map((c) => c.spec.id);
    const delay = backoff ? backoffDelay(backoff, this.#restartHistory.recentCount) : 0;
    if (delay > 0) {
      // Delivered through the priority lane rather than the user mailbox.
      const handle = this.host.clock.setTimer(delay, () => {
        this.#pendingBackoffs.delete(handle);
        this.#sendSystem({ kind: "restart_children", ids, error });
      });
      this.#pendingBackoffs.add(handle);
    } else {
      this.#restartChildren(ids, error);
    }
  }

  #pendingBackoffs = new Set<TimerHandle>();

  #restartChildren(ids: string[], error: unknown): void {
    for (const id of ids) {
      const child = this.children.find((c) => c.spec.id === id);
      if (!child) continue;
      if (child.spec.restart === "temporary" && child.#status !== "failed") {
        // A temporary sibling stopped by one_for_all/rest_for_one is not brought back.
        this.#removeChild(child);
        child.#finalize({ kind: "shutdown" }, "removed");
        continue;
      }
      child.#reincarnate(error);
    }
  }

  #reincarnate(error: unknown): void {
    this.#restartError = error;
    this.#newIncarnation();
    this.log.info("Actor restarted", { incarnation: this.incarnation });
    this.host.inspection.emit({ type: "restart", address: this.address, incarnation: this.incarnation });
    this.#schedule();
  }

  #newIncarnation(): void {
    this.incarnation += 1;
    this.#timers = new KeyedTimers<M>(this.host.clock, (m) => this.tell(m));
    this.#stopping = new AbortController();
    const b = this.spec.behavior;
    this.#behavior = typeof b === "function" ? b() : b;
    this.#state = undefined;
    this.#status = "starting";
    this.#needsInit = true;
    this.#stopRequested = false;
  }

  /** Ends the current incarnation: children (reverse order), onStop, timers. Keeps the mailbox. */
  async #terminateIncarnation(reason: StopReason): Promise<void> {
    await this.#stopAllChildren(
      reason.kind === "failure" || reason.kind === "restart" ? { kind: "shutdown" } : reason,
    );
    this.#timers.close();
    if (this.#state !== undefined && this.#behavior.onStop) {
      try {
        await this.#behavior.onStop(this.#state, this.#ctx, reason);
      } catch (error) {
        this.log.warn("Actor {actor}: onStop failed: {error}", { error: describeError(error) });
      }
    }
    this.#state = undefined;
  }

  async #stopForRestart(error: unknown): Promise<void> {
    await this.#awaitIdle(this.spec.shutdownMs ?? DEFAULT_SHUTDOWN_MS);
    this.#status = "failed";
    await this.#terminateIncarnation({ kind: "restart", error });
  }

  // ---- stopping -------------------------------------------------------------

  async #stopNormally(): Promise<void> {
    this.#status = "stopping";
    await this.#terminateIncarnation({ kind: "normal" });
    if (this.parent) {
      this.#status = "failed"; // parked: the parent decides whether it comes back
      this.parent.#sendSystem({ kind: "child_stopped", child: this });
    } else {
      this.#finalize({ kind: "normal" }, "stopped");
    }
  }

  /** Stops this cell for good (used by parents and by system shutdown). */
  async stop(reason: StopReason = { kind: "shutdown" }): Promise<void> {
    if (this.#status === "stopped") return;
    this.#signalStopping();
    const timeoutMs = this.spec.shutdownMs ?? DEFAULT_SHUTDOWN_MS;
    this.#sendSystem({ kind: "stop", reason });
    // The timeout's timer is cleared once the cell has stopped: left running, it kept a process whose
    // actors had all stopped alive for up to timeoutMs.
    const stopWaiting = new AbortController();
    const timedOut = await Promise.race([
      this.stopped.then(() => false),
      sleep(this.host.clock, timeoutMs, stopWaiting.signal).then(() => true, () => false),
    ]);
    stopWaiting.abort();
    if (timedOut && this.isAlive) {
      this.log.warn("Actor did not stop in time; abandoning its current message", { timeoutMs });
      this.#timers.close();
      await this.#stopAllChildren(reason);
      this.#finalize(reason, "stopped");
    }
  }

  /**
   * Tells the running handlers of this cell and of its whole subtree (all of
   * which are about to stop) to wind down: a long handler that waits on its
   * children would otherwise hold the stop up until its timeout.
   */
  #signalStopping(): void {
    this.#stopping.abort(new Error(`${this.address} is stopping`));
    for (const child of this.children) child.#signalStopping();
  }

  async #finalStop(reason: StopReason): Promise<void> {
    if (this.#status === "stopped") return;
    const wasLive = this.#status !== "failed";
    this.#status = "stopping";
    for (const handle of this.#pendingBackoffs) this.host.clock.clearTimer(handle);
    this.#pendingBackoffs.clear();
    if (wasLive) await this.#terminateIncarnation(reason);
    else await this.#stopAllChildren(reason);
    this.#finalize(reason, "stopped");
  }

  async #stopAllChildren(reason: StopReason): Promise<void> {
    for (const child of [...this.children].reverse()) {
      await child.stop(reason);
      this.#removeChild(child);
    }
  }

  async #stopChildById(id: string): Promise<void> {
    const child = this.children.find((c) => c.spec.id === id);
    if (!child) return;
    // Remove first so the exit is not treated as a crash to restart.
    this.#removeChild(child);
    await child.stop({ kind: "shutdown" });
  }

  /** Marks the cell dead: mailbox to dead letters, address released. */
  #finalize(reason: StopReason, why: "stopped" | "removed"): void {
    if (this.#status === "stopped") return;
    this.#status = "stopped";
    this.#timers.close();
    for (const msg of this.mailbox.drain()) this.host.deadLetter(this.address, msg, why);
    this.#system = [];
    this.host.unregister(this);
    this.host.inspection.emit({ type: "stop", address: this.address, reason: reason.kind });
    this.#stopped.resolve();
  }

  // deno-lint-ignore no-explicit-any
  #removeChild(child: ActorCell<any>): void {
    const i = this.children.indexOf(child);
    if (i >= 0) this.children.splice(i, 1);
  }

  async #awaitIdle(timeoutMs: number): Promise<void> {
    if (!this.#running) return;
    const deadline = this.host.clock.now() + timeoutMs;
    while (this.#running && this.host.clock.now() < deadline) await yieldToEventLoop();
  }

  // ---- children -------------------------------------------------------------

  spawnChild<C>(spec: ChildSpec<C>, supervision?: SupervisionOptions): ActorCell<C> {
    if (this.#status === "stopped" || this.#status === "stopping") {
      throw new Error(`Cannot spawn "${spec.id}" under stopped actor "${this.address}"`);
    }
    validateChildId(spec.id);
    if (this.children.some((c) => c.spec.id === spec.id)) {
      throw new Error(`Actor "${this.address}" already has a child "${spec.id}"`);
    }
    const child = new ActorCell<C>(this.host, this, spec, supervision);
    this.children.push(child);
    this.host.register(child);
    this.host.inspection.emit({ type: "spawn", address: child.address });
    child.#schedule();
    return child;
  }
}

function validateChildId(id: string): void {
  if (!/^[A-Za-z0-9_.:@+-]+$/.test(id)) {
    throw new TypeError(`Actor id must be a non-empty name without "/" or spaces, got "${id}"`);
  }
}

function isThenable<T>(x: T | Promise<T>): x is Promise<T> {
  return typeof (x as { then?: unknown })?.then === "function";
}

function backoffDelay(b: { initialMs: number; maxMs: number; factor?: number }, restarts: number): number {
  const factor = b.factor ?? 2;
  return Math.min(b.maxMs, b.initialMs * factor ** Math.max(0, restarts - 1));
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
