/**
 * How a long read over the inventory lets other work run: called once per
 * item, it may return a promise (a yield to the event loop, or a deadline
 * check that throws). In-process the request's budget paces it; on a reader
 * replica, the Worker's own time slices do.
 */
export type Pace = () => Promise<void> | void;

/** No pacing (tests, synchronous callers). */
export const UNPACED: Pace = () => {};

/**
 * Paces by real time: every `every` items, past `budgetMs` it throws `ReadBudgetExceeded`, and
 * after `sliceMs` of work it awaits `yieldNow`.
 */
export function slicedPace(
  { budgetMs, now, yieldNow, sliceMs = 20, every = 256 }: {
    budgetMs: number;
    now: () => number;
    yieldNow: () => Promise<void>;
    sliceMs?: number;
    every?: number;
  },
): Pace {
  const started = now();
  let sliceStart = started;
  let count = 0;
  return () => {
    if (++count % every !== 0) return;
    const t = now();
    if (t - started > budgetMs) throw new ReadBudgetExceeded(budgetMs);
    if (t - sliceStart < sliceMs) return;
    return yieldNow().then(() => {
      sliceStart = now();
    });
  };
}

export class ReadBudgetExceeded extends Error {
  constructor(readonly budgetMs: number) {
    super(`The read did not finish within its budget of ${budgetMs / 1000} s`);
    this.name = "ReadBudgetExceeded";
  }
}
