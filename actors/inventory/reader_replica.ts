import type { JournalEntry } from "../../registry/inventory/mod.ts";
import type { InventoryPublication } from "./publication.ts";
import type { FromReplica, ReplicaQuery, ToReplica } from "./reader_replica_protocol.ts";

/**
 * The main-thread handle of a reader replica Worker. `follow` feeds it the
 * committed journal: first the backlog from the database, then every entry the
 * writer publishes (buffered meanwhile, so nothing falls in the gap).
 */
export class ReaderReplica {
  #worker: Worker;
  #nextId = 1;
  #answers = new Map<number, (value: unknown) => void>();
  #appliedWaiters: { seq: number; resolve: () => void }[] = [];
  #applied = 0;
  #error: string | null = null;
  #unsubscribe: (() => void) | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<FromReplica>) => this.#onMessage(e.data);
  }

  /** @param partitionsModule URL of a module exporting `partitions` (default: the Default partition). */
  static async start(partitionsModule: string | null = null): Promise<ReaderReplica> {
    const worker = new Worker(new URL("./reader_replica_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const replica = new ReaderReplica(worker);
    const ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<FromReplica>) => {
        if (e.data.type === "ready") resolve();
        else if (e.data.type === "error") reject(new Error(e.data.message));
        worker.onmessage = (ev: MessageEvent<FromReplica>) => replica.#onMessage(ev.data);
      };
    });
    replica.#post({ type: "init", partitionsModule });
    await ready;
    return replica;
  }

  /** The last error the Worker reported (a diverged journal), if any. */
  get error(): string | null {
    return this.#error;
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
      if (caughtUp) this.feed([entry]);
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

  /** Resolves once the replica has applied everything up to `seq`. */
  caughtUp(seq: number): Promise<void> {
    if (this.#applied >= seq) return Promise.resolve();
    return new Promise((resolve) => this.#appliedWaiters.push({ seq, resolve }));
  }

  query<T = unknown>(query: ReplicaQuery): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve) => {
      this.#answers.set(id, resolve as (v: unknown) => void);
      this.#post({ type: "query", id, query });
    });
  }

  close(): void {
    this.#unsubscribe?.();
    this.#worker.terminate();
  }

  #post(msg: ToReplica): void {
    this.#worker.postMessage(msg);
  }

  #onMessage(msg: FromReplica): void {
    switch (msg.type) {
      case "applied":
        this.#applied = msg.seq;
        this.#appliedWaiters = this.#appliedWaiters.filter((w) => {
          if (w.seq > msg.seq) return true;
          w.resolve();
          return false;
        });
        return;
      case "answer":
        this.#answers.get(msg.id)?.(msg.result);
        this.#answers.delete(msg.id);
        return;
      case "error":
        this.#error = msg.message;
        return;
      case "ready":
        return;
    }
  }
}
