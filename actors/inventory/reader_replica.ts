import { type JournalEntry, type PartitionDefinition, stateRows } from "../../registry/inventory/mod.ts";
import type { DetoxDecision } from "../../policies/detox/detox_decision.ts";
import type { DealerDecision } from "../../policies/dealer/dealer_decision.ts";
import type { DealerDecisionRow } from "../../registry/requests/dealer_run.ts";
import type { DecisionRow } from "../../registry/requests/detox_run.ts";
import type { InventoryPublication } from "./publication.ts";
import { yieldToEventLoop } from "../runtime/clock.ts";
import type { FromReplica, ReplicaQuery, TableRow, ToReplica } from "./reader_replica_protocol.ts";

/** Rows per message (and per turn of the main event loop) while building a replica. */
const ROWS_PER_MESSAGE = 10_000;
/** Row messages posted and not yet loaded by the Worker, at most (the rest wait on the main thread). */
const MESSAGES_IN_FLIGHT = 2;
/** Detox decision rows per page (each decoded in one turn of the main event loop). */
const DECISION_ROWS_PER_PAGE = 2_000;
/** Lag samples kept (for the benchmark's percentiles). */
const LAG_SAMPLES = 100_000;

export interface BuildOptions {
  /** Rows per message (default 10,000). */
  rowsPerMessage?: number;
  /** Awaited before each slice of rows is sent, from 0 (tests hold the build here). */
  beforeSlice?: (slice: number) => Promise<void> | void;
}

/** Entries published while a replica is being built, until it follows live. */
class BuildBuffer {
  entries: JournalEntry[] = [];
  live = false;

  /** The buffered entries after `generation` (the snapshot's): those at or below it are in the rows. */
  after(generation: number): JournalEntry[] {
    const out = this.entries.filter((e) => e.seq > generation);
    this.entries = [];
    return out;
  }
}

export interface ReaderReplicaOptions {
  /** URL of a module exporting `partitions` (tests). */
  partitionsModule?: string | null;
  /** The configured partitions (each needs its definition text); default: the Default partition. */
  partitions?: readonly PartitionDefinition[];
  /** Called once when the Worker fails or reports a diverged journal. */
  onFailure?: (error: Error) => void;
}

/**
 * The main-thread handle of a reader replica Worker. It is built either from
 * the committed journal (`follow`: backlog, then live entries) or from the
 * writer's published snapshot while the writer carries on (`buildFrom`), then
 * follows every entry the writer publishes. Queries and Detox cycles run in the Worker.
 */
export class ReaderReplica {
  #worker: Worker;
  #nextId = 1;
  #answers = new Map<number, { resolve: (value: unknown) => void; reject: (e: Error) => void }>();
  #appliedWaiters: { seq: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  #applied = 0;
  #error: string | null = null;
  #unsubscribe: (() => void) | null = null;
  #onFailure: ((error: Error) => void) | null;
  /** When each fed entry was published (ms, shared wall clock), until the Worker applies it. */
  #publishedAt = new Map<number, number>();
  #lagSamples: number[] = [];
  #closed = false;
  #rowsInFlight = 0;
  #rowsWindowWaiter: (() => void) | null = null;

  private constructor(worker: Worker, onFailure: ((error: Error) => void) | null) {
    this.#worker = worker;
    this.#onFailure = onFailure;
    worker.onmessage = (e: MessageEvent<FromReplica>) => this.#onMessage(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#fail(new Error(`Reader replica Worker failed: ${e.message}`));
    };
  }

  /** @param options a partitions module URL (the older form), or options. */
  static async start(options: string | null | ReaderReplicaOptions = null): Promise<ReaderReplica> {
    const o: ReaderReplicaOptions = typeof options === "object" && options !== null
      ? options
      : { partitionsModule: options };
    const worker = new Worker(new URL("./reader_replica_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const replica = new ReaderReplica(worker, o.onFailure ?? null);
    const ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<FromReplica>) => {
        if (e.data.type === "ready") resolve();
        else if (e.data.type === "error") reject(new Error(e.data.message));
        worker.onmessage = (ev: MessageEvent<FromReplica>) => replica.#onMessage(ev.data);
      };
    });
    replica.#post({
      type: "init",
      partitionsModule: o.partitionsModule ?? null,
      partitions: o.partitions ? partitionSources(o.partitions) : null,
    });
    await ready;
    return replica;
  }

  /** The last error the Worker reported (a diverged journal), if any. */
  get error(): string | null {
    return this.#error;
  }

  /** The generation the replica has applied. */
  get applied(): number {
    return this.#applied;
  }

  /** Milliseconds from publication to application of recent entries (drained by the caller). */
  takeLagSamples(): number[] {
    const out = this.#lagSamples;
    this.#lagSamples = [];
    return out;
  }

  feed(entries: JournalEntry[]): void {
    if (entries.length > 0) this.#post({ type: "entries", entries });
  }

  /** Catches up from the backlog, then keeps following the writer. */
  async follow(
    publication: InventoryPublication,
    journalSince: (seq: number) => Promise<JournalEntry[]>,
  ): Promise<void> {
    const live: JournalEntry[] = [];
    let caughtUp = false;
    this.#unsubscribe = publication.subscribe((entry) => {
      if (caughtUp) this.#feedLive(entry);
      else live.push(entry);
    });
    let seq = 0;
    for (;;) {
      const page = await journalSince(seq);
      if (page.length === 0) break;
      this.feed(page);
      seq = page[page.length - 1]!.seq;
    }
    this.feed(live.filter((e) => e.seq > seq));
    caughtUp = true;
  }

  /**
   * Builds the replica from the writer's published snapshot, without pausing the writer: the
   * snapshot is immutable, so its rows are those of its generation however long the build takes.
   * They go to the Worker in slices, one per turn of the event loop, at most
   * `MESSAGES_IN_FLIGHT` ahead of the Worker. Entries the writer publishes meanwhile are buffered
   * and applied once the rows are loaded (those at or below the snapshot's generation are
   * dropped; a gap makes the Worker report a divergence). Resolves once the buffer is drained and
   * the replica follows the writer live; false if it was closed meanwhile.
   */
  async buildFrom(publication: InventoryPublication, options: BuildOptions = {}): Promise<boolean> {
    await publication.ready;
    if (this.#closed) return false;
    const build = new BuildBuffer();
    // Subscribed in the same turn as the snapshot is taken: every later entry is buffered.
    this.#unsubscribe = publication.subscribe((entry) => {
      if (build.live) this.#feedLive(entry);
      else build.entries.push(entry);
    });
    const state = publication.snapshot().state;
    const perMessage = options.rowsPerMessage ?? ROWS_PER_MESSAGE;
    this.#post({
      type: "load_begin",
      partitionIds: [...state.partitions.byName].map(([name, p]) => [name, p.id] as const),
    });
    let rows: TableRow[] = [];
    let slice = 0;
    const send = async () => {
      await options.beforeSlice?.(slice++);
      await this.#rowsWindow();
      if (this.#closed) return;
      this.#post({ type: "rows", rows });
      this.#rowsInFlight += 1;
      rows = [];
      await yieldToEventLoop(); // the writer and the HTTP requests run between two slices
    };
    for (const row of stateRows(state)) {
      rows.push(row);
      if (rows.length >= perMessage) await send();
      if (this.#closed || this.#error) return false;
    }
    if (rows.length > 0) await send();
    if (this.#closed || this.#error) return false;
    this.#post({ type: "load_end", generation: state.generation, counters: state.counters });
    this.feed(build.after(state.generation));
    build.live = true;
    return true;
  }

  /** Resolves once fewer than `MESSAGES_IN_FLIGHT` row messages wait in the Worker. */
  #rowsWindow(): Promise<void> {
    if (this.#rowsInFlight < MESSAGES_IN_FLIGHT || this.#closed || this.#error) return Promise.resolve();
    return new Promise((resolve) => (this.#rowsWindowWaiter = resolve));
  }

  /**
   * Resolves once the replica has applied everything up to `seq`; rejects with the signal's reason
   * when it aborts first (the waiter is dropped: a generation never journaled is never reached).
   */
  caughtUp(seq: number, signal?: AbortSignal): Promise<void> {
    if (this.#applied >= seq) return Promise.resolve();
    if (this.#error) return Promise.reject(new Error(this.#error));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#appliedWaiters = this.#appliedWaiters.filter((w) => w !== waiter);
        reject(signal!.reason);
      };
      const done = () => signal?.removeEventListener("abort", onAbort);
      const waiter = {
        seq,
        resolve: () => (done(), resolve()),
        reject: (e: Error) => (done(), reject(e)),
      };
      this.#appliedWaiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  query<T = unknown>(query: ReplicaQuery): Promise<T> {
    if (this.#error) return Promise.reject(new Error(this.#error));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#answers.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#post({ type: "query", id, query });
    });
  }

  /**
   * Decides a Detox cycle on the replica's state (see `DetoxDecider`). The decision rows (one per
   * replica evaluated) come in pages, each decoded in its own turn of the event loop.
   */
  async decideDetox(query: Omit<Extract<ReplicaQuery, { kind: "detox" }>, "kind">): Promise<DetoxDecision> {
    const decision = await this.query<DetoxDecision & { decisionsKey?: number }>({ kind: "detox", ...query });
    if (decision.kind !== "decided" || decision.decisionsKey === undefined) return decision;
    const { decisionsKey: key, ...rest } = decision;
    return { ...rest, decisions: await this.#decisionRows<DecisionRow>(key) };
  }

  /** Decides a Dealer cycle on the replica's state (see `DealerDecider`); its rows come in pages too. */
  async decideDealer(
    query: Omit<Extract<ReplicaQuery, { kind: "dealer" }>, "kind">,
  ): Promise<DealerDecision> {
    const decision = await this.query<DealerDecision & { decisionsKey?: number }>({
      kind: "dealer",
      ...query,
    });
    if (decision.kind !== "decided" || decision.decisionsKey === undefined) return decision;
    const { decisionsKey: key, ...rest } = decision;
    return { ...rest, decisions: await this.#decisionRows<DealerDecisionRow>(key) };
  }

  /** Takes the rows a decision left in the Worker, a page per message (each decoded in its own turn). */
  async #decisionRows<T>(key: number): Promise<T[]> {
    const rows: T[] = [];
    for (;;) {
      const page = await this.query<T[]>({ kind: "decision_rows", key, limit: DECISION_ROWS_PER_PAGE });
      for (const row of page) rows.push(row);
      if (page.length < DECISION_ROWS_PER_PAGE) return rows;
    }
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#worker.terminate();
    this.#rejectAll(new Error("The reader replica was closed"));
    this.#releaseRowsWindow();
  }

  #feedLive(entry: JournalEntry): void {
    if (this.#publishedAt.size < LAG_SAMPLES) {
      this.#publishedAt.set(entry.seq, performance.timeOrigin + performance.now());
    }
    this.feed([entry]);
  }

  #post(msg: ToReplica): void {
    this.#worker.postMessage(msg);
  }

  #fail(error: Error): void {
    if (this.#error) return;
    this.#error = error.message;
    this.#rejectAll(error);
    this.#releaseRowsWindow();
    this.#onFailure?.(error);
  }

  #releaseRowsWindow(): void {
    const w = this.#rowsWindowWaiter;
    this.#rowsWindowWaiter = null;
    w?.();
  }

  #rejectAll(error: Error): void {
    for (const a of this.#answers.values()) a.reject(error);
    this.#answers.clear();
    for (const w of this.#appliedWaiters) w.reject(error);
    this.#appliedWaiters = [];
  }

  #onMessage(msg: FromReplica): void {
    switch (msg.type) {
      case "applied": {
        // The Worker's own time of application: the lag does not include this thread's queue.
        const now = msg.atMs ?? performance.timeOrigin + performance.now();
        for (const [seq, at] of this.#publishedAt) {
          if (seq > msg.seq) break;
          if (this.#lagSamples.length < LAG_SAMPLES) this.#lagSamples.push(now - at);
          this.#publishedAt.delete(seq);
        }
        this.#applied = msg.seq;
        this.#appliedWaiters = this.#appliedWaiters.filter((w) => {
          if (w.seq > msg.seq) return true;
          w.resolve();
          return false;
        });
        return;
      }
      case "answer":
        this.#answers.get(msg.id)?.resolve(msg.result);
        this.#answers.delete(msg.id);
        return;
      case "failed":
        this.#answers.get(msg.id)?.reject(new Error(msg.message));
        this.#answers.delete(msg.id);
        return;
      case "error":
        // A diverged journal: this replica cannot be trusted any more.
        this.#fail(new Error(msg.message));
        return;
      case "rows_loaded":
        this.#rowsInFlight -= 1;
        this.#releaseRowsWindow();
        return;
      case "ready":
        return;
    }
  }
}

/** The partitions as `[name, definition text]`, to be parsed again in the Worker. */
export function partitionSources(defs: readonly PartitionDefinition[]): (readonly [string, string])[] {
  return defs.map((d) => {
    if (d.text === undefined) {
      throw new TypeError(`Partition "${d.name}" has no definition text to give a reader replica`);
    }
    return [d.name, d.subpartitions ? `[${d.subpartitions.join(", ")}]` : d.text] as const;
  });
}
