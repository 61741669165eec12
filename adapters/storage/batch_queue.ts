/**
 * Gathers concurrent requests into batches without waiting for anyone: the
 * requests made in the same turn of the event loop, and those that arrive
 * while `maxRunning` batches are already running, go together (up to
 * `maxBatch`, per key) into the next batch, the keys taken in turn. A lone
 * request starts at once.
 * XrootdStorage uses it so that the files a link copies in parallel cost one
 * `xrdcp` between them instead of one each.
 */
export interface BatchQueueOptions<T, R> {
  readonly maxBatch: number;
  readonly maxRunning: number;
  /** One result per item, in order; a rejection fails every item of the batch. */
  run(key: string, items: T[]): Promise<R[]>;
}

interface Waiting<T, R> {
  readonly item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export class BatchQueue<T, R> {
  readonly #options: BatchQueueOptions<T, R>;
  readonly #pending = new Map<string, Waiting<T, R>[]>();
  #running = 0;
  #scheduled = false;

  constructor(options: BatchQueueOptions<T, R>) {
    if (!(options.maxBatch >= 1 && options.maxRunning >= 1)) {
      throw new RangeError("a batch queue needs maxBatch ≥ 1 and maxRunning ≥ 1");
    }
    this.#options = options;
  }

  submit(key: string, item: T): Promise<R> {
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    const queue = this.#pending.get(key);
    if (queue) queue.push({ item, resolve, reject });
    else this.#pending.set(key, [{ item, resolve, reject }]);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // One turn, so that the callers woken together by the last batch join the next one.
      setTimeout(() => {
        this.#scheduled = false;
        this.#start();
      }, 0);
    }
    return promise;
  }

  #start(): void {
    while (this.#running < this.#options.maxRunning && this.#pending.size > 0) {
      const [key, queue] = this.#pending.entries().next().value!;
      const batch = queue.splice(0, this.#options.maxBatch);
      // A key that still waits goes to the back: one busy directory does not starve the others.
      this.#pending.delete(key);
      if (queue.length > 0) this.#pending.set(key, queue);
      this.#running++;
      Promise.resolve()
        .then(() => this.#options.run(key, batch.map((w) => w.item)))
        .then(
          (results) => {
            if (results.length !== batch.length) throw new Error("a batch must give one result per item");
            batch.forEach((w, i) => w.resolve(results[i]!));
          },
          (error) => batch.forEach((w) => w.reject(error)),
        )
        .catch((error) => batch.forEach((w) => w.reject(error)))
        .finally(() => {
          this.#running--;
          this.#start();
        });
    }
  }
}
