/**
 * The time budget of a Detox or Dealer cycle. Detox cycles are decided on a
 * reader replica in a Worker (docs/parallel_readers.md); the Dealer's, and
 * Detox's with `readers: false`, run on the main isolate. Either way, as a
 * second guard, their long loops stop at checkpoints: after a time slice
 * they yield to the event loop (so HTTP requests, `/health` and the writer
 * are served), and past the budget the cycle is abandoned, recorded as
 * failed with the reason. What a cycle used is reported in its history.
 */

/** Default time budget of one Detox or Dealer cycle (`DYNAMO_CYCLE_BUDGET`, seconds). */
export const DEFAULT_CYCLE_BUDGET_MS = 30 * 60_000;

export interface CycleBudgetOptions {
  /** The whole cycle's allowance. */
  budgetMs: number;
  now: () => number;
  /** Lets other work run (a macrotask turn); the agents pass the runtime's `yieldToEventLoop`. */
  yieldNow: () => Promise<void>;
  /** Longest run between two yields (default 50 ms). */
  sliceMs?: number;
}

/** What a cycle used of its budget (stored with the cycle, shown by the REST history). */
export interface CycleBudgetReport {
  readonly budgetMs: number;
  readonly elapsedMs: number;
  /** Times the cycle let other work run. */
  readonly yields: number;
  readonly exceeded: boolean;
}

export class CycleBudgetExceeded extends Error {
  constructor(readonly budgetMs: number, readonly elapsedMs: number, readonly stage: string) {
    super(`time budget of ${budgetMs / 1000} s exceeded (${elapsedMs / 1000} s, during ${stage})`);
    this.name = "CycleBudgetExceeded";
  }
}

export class CycleBudget {
  readonly startedMs: number;
  #sliceStart: number;
  #yields = 0;
  #exceeded = false;

  constructor(readonly options: CycleBudgetOptions) {
    this.startedMs = options.now();
    this.#sliceStart = this.startedMs;
  }

  /** A checkpoint: throws past the budget, yields once the slice is used. */
  async checkpoint(stage: string): Promise<void> {
    const now = this.options.now();
    const elapsed = now - this.startedMs;
    if (elapsed > this.options.budgetMs) {
      this.#exceeded = true;
      throw new CycleBudgetExceeded(this.options.budgetMs, elapsed, stage);
    }
    if (now - this.#sliceStart < (this.options.sliceMs ?? 50)) return;
    await this.options.yieldNow();
    this.#yields += 1;
    this.#sliceStart = this.options.now();
  }

  report(): CycleBudgetReport {
    return {
      budgetMs: this.options.budgetMs,
      elapsedMs: this.options.now() - this.startedMs,
      yields: this.#yields,
      exceeded: this.#exceeded,
    };
  }
}

/**
 * Drives a cycle written as a generator (it yields a stage name at each
 * checkpoint) to its result, stopping at the checkpoints.
 */
export async function runPaced<T>(steps: Generator<string, T>, budget: CycleBudget): Promise<T> {
  for (let s = steps.next();; s = steps.next()) {
    if (s.done) return s.value;
    await budget.checkpoint(s.value);
  }
}

/** Drives the same generator straight through (the synchronous entry points, tests, benchmarks). */
export function runStraight<T>(steps: Generator<string, T>): T {
  for (let s = steps.next();; s = steps.next()) if (s.done) return s.value;
}
