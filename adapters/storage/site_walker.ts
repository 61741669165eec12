/**
 * Walks a site's namespace with a TreeReader: the top levels below each root
 * flat, then whole subtrees, several at a time. A subtree whose recursive
 * listing times out or fails is listed again flat and its subdirectories
 * queued (what the CMS scanner does for XRootD); a directory whose flat
 * listing still fails after its retries is a failure of the walk, so nothing
 * under it is called missing. Records reach the consumer in batches through a
 * small bounded buffer: memory holds a few batches and the queue of
 * directories, never the site.
 *
 * A subtree listed again after a failure may repeat records it gave before;
 * consumers treat records as a set.
 */
import {
  DEFAULT_WALK_SETTINGS,
  type ListingFailure,
  type ListingRecord,
  type SiteWalk,
  type TreeReader,
  type WalkProgress,
  type WalkSettings,
} from "./listing_port.ts";
import { checkNamespacePath } from "./storage_port.ts";

interface Job {
  dir: string;
  depth: number;
  mode: "tree" | "flat";
  attempt: number;
  mtimeMs: number;
  isRoot: boolean;
  /** Why this directory is listed flat (a failed subtree listing), for the failure message. */
  note?: string;
}

export interface WalkOptions {
  roots: readonly string[];
  skip?: (dir: string) => boolean;
  settings?: Partial<WalkSettings>;
  signal?: AbortSignal;
}

export function walkSite(reader: TreeReader, options: WalkOptions): SiteWalk {
  return new Walk(reader, options);
}

class Walk implements SiteWalk {
  readonly failures: ListingFailure[] = [];
  readonly relisted: string[] = [];
  readonly #settings: WalkSettings;
  readonly #reader: TreeReader;
  readonly #skip: (dir: string) => boolean;
  readonly #abort = new AbortController();
  readonly #queue: Job[] = [];
  readonly #queued = new Set<string>();
  #active = 0;
  #files = 0;
  #dirs = 0;
  #started = false;
  // The bounded hand-over between listing jobs and the consumer.
  readonly #buffer: ListingRecord[][] = [];
  #error: unknown = null;
  #done = false;
  #wakeConsumer: (() => void) | null = null;
  readonly #wakeProducers: (() => void)[] = [];
  readonly #wakeWorkers: (() => void)[] = [];

  constructor(reader: TreeReader, options: WalkOptions) {
    this.#reader = reader;
    this.#settings = { ...DEFAULT_WALK_SETTINGS, ...options.settings };
    for (const [key, value] of Object.entries(this.#settings)) {
      if (!Number.isInteger(value) || value < 0 || (key === "concurrency" && value < 1)) {
        throw new RangeError(
          `Listing setting ${key} must be a whole number${key === "concurrency" ? " ≥ 1" : " ≥ 0"}, got ${
            JSON.stringify(value)
          }`,
        );
      }
    }
    this.#skip = options.skip ?? (() => false);
    if (options.signal) {
      if (options.signal.aborted) this.#abort.abort(options.signal.reason);
      else {options.signal.addEventListener("abort", () => this.#abort.abort(options.signal!.reason), {
          once: true,
        });}
    }
    for (const root of options.roots) {
      const dir = checkNamespacePath(root);
      this.#enqueue({ dir, depth: 0, mode: this.#modeAt(0), attempt: 0, mtimeMs: 0, isRoot: true });
    }
  }

  get progress(): WalkProgress {
    return { files: this.#files, dirs: this.#dirs, queued: this.#queue.length, failed: this.failures.length };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ListingRecord[]> {
    if (this.#started) throw new Error("A site walk can be iterated once");
    this.#started = true;
    const workers = Array.from({ length: this.#settings.concurrency }, () => this.#worker());
    const all = Promise.all(workers).then(
      () => this.#finish(null),
      (e) => this.#finish(e),
    );
    try {
      for (;;) {
        const batch = this.#buffer.shift();
        if (batch) {
          this.#wakeProducers.shift()?.();
          yield batch;
          continue;
        }
        if (this.#done) break;
        await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
      }
      if (this.#error !== null) throw this.#error;
    } finally {
      if (!this.#done) this.#abort.abort(new DOMException("The walk's consumer stopped", "AbortError"));
      for (const wake of this.#wakeProducers.splice(0)) wake();
      await all;
    }
  }

  #finish(error: unknown) {
    if (error !== null && this.#error === null) this.#error = error;
    this.#done = true;
    this.#wakeConsumer?.();
  }

  #modeAt(depth: number): "tree" | "flat" {
    return this.#reader.recursive && depth >= this.#settings.splitDepth ? "tree" : "flat";
  }

  #enqueue(job: Job) {
    this.#queue.push(job);
    this.#wakeWorkers.shift()?.();
  }

  async #worker(): Promise<void> {
    for (;;) {
      this.#abort.signal.throwIfAborted();
      const job = this.#queue.shift();
      if (!job) {
        if (this.#active === 0) {
          for (const wake of this.#wakeWorkers.splice(0)) wake(); // everyone is done
          return;
        }
        await new Promise<void>((resolve) => this.#wakeWorkers.push(resolve));
        continue;
      }
      this.#active++;
      try {
        await this.#run(job);
      } finally {
        this.#active--;
        if (this.#active === 0 && this.#queue.length === 0) {
          for (const wake of this.#wakeWorkers.splice(0)) wake();
        }
      }
    }
  }

  async #run(job: Job): Promise<void> {
    const timeoutMs = job.mode === "tree" ? this.#settings.treeTimeoutMs : this.#settings.dirTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([this.#abort.signal, timeout]);
    let records = 0;
    try {
      for await (const batch of this.#reader.listTree(job.dir, { recursive: job.mode === "tree", signal })) {
        const out: ListingRecord[] = [];
        for (const r of batch) {
          if (r.type === "unreadable") {
            // Inside a subtree: that directory alone is tried again, flat, with its retries.
            this.#enqueueChild({
              ...job,
              dir: r.path,
              mode: "flat",
              attempt: 0,
              isRoot: false,
              note: r.reason,
            }, true);
            continue;
          }
          out.push(r);
          if (r.type === "file") this.#files++;
          else if (r.type === "dir") {
            this.#dirs++;
            if (job.mode === "flat" && r.empty !== true && !this.#skip(r.path)) {
              const depth = job.depth + 1;
              this.#enqueueChild({
                dir: r.path,
                depth,
                mode: this.#modeAt(depth),
                attempt: 0,
                mtimeMs: r.mtimeMs,
                isRoot: false,
              });
            }
          }
        }
        records += batch.length;
        if (out.length > 0) await this.#emit(out);
      }
    } catch (e) {
      if (this.#abort.signal.aborted) throw this.#abort.signal.reason;
      const reason = timeout.aborted
        ? `listing timed out after ${timeoutMs / 1000} s`
        : printableReason(e instanceof Error ? e.message : String(e));
      if (job.mode === "tree") {
        if (records > 0) this.relisted.push(job.dir);
        this.#enqueue({ ...job, mode: "flat", attempt: 0, note: reason });
      } else if (job.attempt < this.#settings.retries) {
        if (records > 0) this.relisted.push(job.dir);
        this.#enqueue({ ...job, attempt: job.attempt + 1, note: reason });
      } else {
        this.failures.push({ dir: job.dir, reason, attempts: job.attempt + 1 });
      }
      return;
    }
    // A directory its parent's flat listing could not size up: an empty one is reported here.
    if (records === 0 && !job.isRoot) {
      await this.#emit([{ type: "dir", path: job.dir, mtimeMs: job.mtimeMs, empty: true }]);
    }
  }

  #enqueueChild(job: Job, again = false) {
    const key = `${job.mode} ${job.dir}`;
    if (!again && this.#queued.has(key)) return;
    if (again && this.#queued.has(`retry ${job.dir}`)) return;
    this.#queued.add(again ? `retry ${job.dir}` : key);
    this.#enqueue(job);
  }

  async #emit(batch: ListingRecord[]): Promise<void> {
    while (this.#buffer.length >= 2 * this.#settings.concurrency && !this.#abort.signal.aborted) {
      await new Promise<void>((resolve) => this.#wakeProducers.push(resolve));
    }
    this.#abort.signal.throwIfAborted();
    this.#buffer.push(batch);
    this.#wakeConsumer?.();
    this.#wakeConsumer = null;
  }
}

/** Error text from a storage system is stored and shown: no control characters (XRootD's end in a NUL). */
function printableReason(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim().slice(0, 500);
}
