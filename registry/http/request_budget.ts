/**
 * Every request has a deadline, and work for a client that has gone away
 * stops. Long loops in handlers call `budget.tick()`: every few hundred items
 * it checks the deadline and the client's connection, and after a time slice
 * it yields to the event loop so that other requests (and `/health`) are
 * served meanwhile. The middleware answers 503 at the deadline even if a
 * handler is waiting on something that does not watch the budget.
 */
import { setImmediate } from "node:timers";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./context.ts";
import { HttpError } from "./errors.ts";

/** Default request deadline (`DYNAMO_REQUEST_DEADLINE`, seconds). */
export const DEFAULT_REQUEST_DEADLINE_MS = 60_000;
/** Longest run of a handler's loop between two turns of the event loop. */
const SLICE_MS = 20;
/** Items between two looks at the clock. */
const CHECK_EVERY = 256;

/** The deadline passed: 503 with Retry-After (narrow the request or retry later). */
export class DeadlineExceeded extends HttpError {
  constructor(deadlineMs: number) {
    super(
      503,
      `The request did not finish within its deadline of ${deadlineMs / 1000} s; ` +
        "narrow it (e.g. a more specific pattern) or retry later",
      5,
    );
    this.name = "DeadlineExceeded";
  }
}

/** The client closed the connection; nobody reads the answer, the work stops. */
export class ClientGone extends HttpError {
  constructor() {
    super(503, "The client closed the connection");
    this.name = "ClientGone";
  }
}

/** Structural `Clock` timers (the composition root passes its clock). */
export interface DeadlineTimers {
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(handle: never): void;
}

export class RequestBudget {
  readonly #controller = new AbortController();
  /** Aborted at the deadline or when the client goes away: pass it to awaited calls. */
  readonly signal: AbortSignal;
  #count = 0;
  #sliceStart: number;

  constructor(
    /**
     * The request's own signal: "the client went away". deno.json opts in to Deno's
     * `no-legacy-abort`, under which it does not also fire once the answer is sent
     * (the default in coming releases; the legacy one warned on the first request).
     */
    readonly client: AbortSignal,
    readonly deadline: number,
    readonly deadlineMs: number,
    readonly now: () => number,
  ) {
    this.signal = AbortSignal.any([client, this.#controller.signal]);
    this.#sliceStart = now();
  }

  /** Throws `ClientGone` or `DeadlineExceeded` when the work should stop. */
  check(): void {
    if (this.client.aborted) throw new ClientGone();
    if (this.#controller.signal.aborted || this.now() > this.deadline) this.expire();
  }

  /** Marks the budget spent (the middleware's timer) and throws. */
  expire(): never {
    const error = new DeadlineExceeded(this.deadlineMs);
    if (!this.#controller.signal.aborted) this.#controller.abort(error);
    throw error;
  }

  /** Call once per item of a long loop. */
  async tick(): Promise<void> {
    if (++this.#count % CHECK_EVERY !== 0) return;
    this.check();
    if (this.now() - this.#sliceStart < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.#sliceStart = this.now();
    this.check();
  }
}

const budgets = new WeakMap<Request, RequestBudget>();

/** The budget of the request being handled (a generous one outside the middleware, e.g. in unit tests). */
export function budgetOf(c: Context<AppEnv>): RequestBudget {
  let budget = budgets.get(c.req.raw);
  if (!budget) {
    budget = new RequestBudget(c.req.raw.signal, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, () => 0);
    budgets.set(c.req.raw, budget);
  }
  return budget;
}

export interface RequestDeadlineOptions {
  deadlineMs: number;
  now: () => number;
  /** Without timers only the loops watch the deadline. */
  timers?: DeadlineTimers;
}

export function requestDeadline(options: RequestDeadlineOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const budget = new RequestBudget(
      c.req.raw.signal,
      options.now() + options.deadlineMs,
      options.deadlineMs,
      options.now,
    );
    budgets.set(c.req.raw, budget);
    const timers = options.timers;
    if (!timers) return await next();
    let handle: unknown;
    const expired = new Promise<"expired">((resolve) => {
      handle = timers.setTimer(options.deadlineMs, () => resolve("expired"));
    });
    const work = next().then(() => "done" as const);
    // A handler that fails after the deadline answered has nobody to tell.
    work.catch(() => {});
    try {
      if (await Promise.race([work, expired]) === "expired") budget.expire();
    } finally {
      timers.clearTimer(handle as never);
    }
  };
}

/** `DYNAMO_REQUEST_DEADLINE` (seconds) → milliseconds; undefined when unset. */
export function parseDeadlineSeconds(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(seconds >= 0.1 && seconds <= 86_400)) {
    throw new TypeError(`${name} must be a number of seconds from 0.1 to 86400, got "${text}"`);
  }
  return Math.round(seconds * 1000);
}
