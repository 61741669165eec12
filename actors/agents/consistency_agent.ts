/**
 * The consistency agent (/dynamo/consistency): checks every site on its
 * schedule (each site once per interval, the longest-unchecked first), and on
 * request (REST, CLI, the scheduler), at most `concurrency` sites at a time.
 * A check is a task whose end is a message to self: the agent never awaits a
 * check inside a message, so requests queue and status answers at once. A
 * stopped agent aborts its checks; nothing of an aborted check is recorded.
 */
import type { WalkProgress } from "../../adapters/storage/listing_port.ts";
import type { ActorRef, Behavior } from "../runtime/mod.ts";
import {
  checkableSite,
  checkSite,
  type CheckSummary,
  ConsistencyCheckError,
  type ConsistencyDeps,
  invalidateUnrecoverable,
} from "./consistency_check.ts";

export type CheckReply = CheckSummary | { error: string };

export type ConsistencyMsg =
  | { type: "tick" }
  | { type: "check"; site: string; dryRun: boolean; replyTo?: ActorRef<CheckReply> }
  /** Every site that may be checked, now; one reply when all have ended. */
  | { type: "check_all"; dryRun: boolean; replyTo: ActorRef<CheckReply[]> }
  | { type: "finished"; site: string; result: CheckReply }
  | {
    type: "invalidate";
    site: string;
    replyTo: ActorRef<{ invalidated: number; failed: { path: string; error: string }[] } | { error: string }>;
  }
  | { type: "status"; replyTo: ActorRef<{ running: string[]; queued: string[] }> }
  /** How far the site's running check has listed; null when none runs. */
  | { type: "progress"; site: string; replyTo: ActorRef<CheckProgress | null> }
  /** Cancels the site's running or queued check: its waiters get an error and nothing is recorded. */
  | { type: "cancel"; site: string; replyTo: ActorRef<{ cancelled: boolean }> };

/** A running check's listing so far. */
export interface CheckProgress extends WalkProgress {
  readonly startedMs: number;
}

export interface ConsistencyAgentOptions extends ConsistencyDeps {
  /** Resolves when the inventory is loaded: nothing is checked before. */
  readonly ready: Promise<void>;
  /** How often the schedule is looked at; 0 = only on request. */
  readonly tickMs: number;
}

interface Job {
  site: string;
  dryRun: boolean;
  replyTo: ActorRef<CheckReply>[];
}

interface Running {
  job: Job;
  abort: AbortController;
  /**
   * Written by the check's progress callback between messages: a read-only
   * snapshot of counters that the progress message reports, never a decision.
   */
  progress: CheckProgress;
}

interface State {
  readonly running: Map<string, Running>;
  readonly queue: Job[];
  /** When each site was last checked (ms), from the database at start. */
  readonly lastRun: Map<string, number>;
  /** check_all requests waiting for their sites. */
  readonly collectors: { waiting: Set<string>; results: CheckReply[]; replyTo: ActorRef<CheckReply[]> }[];
}

export function consistencyAgent(options: ConsistencyAgentOptions): Behavior<ConsistencyMsg, State> {
  const start = (state: State, self: ActorRef<ConsistencyMsg>) => {
    const concurrency = options.config().concurrency;
    while (state.running.size < concurrency && state.queue.length > 0) {
      const job = state.queue.shift()!;
      const abort = new AbortController();
      const running: Running = {
        job,
        abort,
        progress: { files: 0, dirs: 0, queued: 0, failed: 0, startedMs: options.nowMs() },
      };
      state.running.set(job.site, running);
      const deps = {
        ...options,
        onProgress: (site: string, p: WalkProgress) => {
          running.progress = { ...p, startedMs: running.progress.startedMs };
          options.onProgress?.(site, p);
        },
      };
      checkSite(deps, job.site, { dryRun: job.dryRun, signal: abort.signal }).then(
        (result) => self.tell({ type: "finished", site: job.site, result }),
        (e) =>
          self.tell({
            type: "finished",
            site: job.site,
            result: { error: e instanceof Error ? e.message : String(e) },
          }),
      );
    }
  };
  const enqueue = (state: State, site: string, dryRun: boolean, replyTo?: ActorRef<CheckReply>) => {
    const existing = state.queue.find((j) => j.site === site && j.dryRun === dryRun) ??
      (state.running.get(site)?.job.dryRun === dryRun ? state.running.get(site)!.job : undefined);
    if (existing) {
      if (replyTo) existing.replyTo.push(replyTo);
      return;
    }
    state.queue.push({ site, dryRun, replyTo: replyTo ? [replyTo] : [] });
  };
  const collect = (state: State, site: string, result: CheckReply) => {
    for (const c of [...state.collectors]) {
      if (!c.waiting.delete(site)) continue;
      c.results.push(result);
      if (c.waiting.size === 0) {
        c.replyTo.tell(c.results);
        state.collectors.splice(state.collectors.indexOf(c), 1);
      }
    }
  };
  const checkable = (site: string) => {
    try {
      checkableSite(options, site);
      return true;
    } catch {
      return false;
    }
  };
  let ready = false; // the inventory is loaded: sites can be looked at
  return {
    async init(ctx) {
      const lastRun = new Map<string, number>();
      for (const run of await options.store.latestRuns()) lastRun.set(run.site, run.startedMs);
      const state: State = { running: new Map(), queue: [], lastRun, collectors: [] };
      // The first round is the first tick after the inventory is loaded, not the start itself: a
      // restarted service does not list every site again at once.
      options.ready.then(() => (ready = true), () => {});
      if (options.tickMs > 0) ctx.timers.startPeriodic("schedule", options.tickMs, { type: "tick" });
      return state;
    },
    onStop(state) {
      for (const { abort } of state.running.values()) abort.abort(new Error("the consistency agent stopped"));
    },
    receive(state, msg, ctx) {
      switch (msg.type) {
        case "tick": {
          if (options.tickMs === 0 || !ready) return state;
          const now = ctx.clock.now();
          const interval = options.config().intervalMs;
          const due = options.snapshot().sites()
            .filter((s) => checkable(s.name) && now - (state.lastRun.get(s.name) ?? -Infinity) >= interval)
            .sort((a, b) => (state.lastRun.get(a.name) ?? 0) - (state.lastRun.get(b.name) ?? 0));
          for (const s of due) {
            if (!state.running.has(s.name) && !state.queue.some((j) => j.site === s.name)) {
              enqueue(state, s.name, false);
            }
          }
          start(state, ctx.self);
          return state;
        }
        case "check": {
          try {
            checkableSite(options, msg.site);
          } catch (e) {
            msg.replyTo?.tell({ error: e instanceof ConsistencyCheckError ? e.message : String(e) });
            return state;
          }
          enqueue(state, msg.site, msg.dryRun, msg.replyTo);
          start(state, ctx.self);
          return state;
        }
        case "check_all": {
          const sites = options.snapshot().sites().map((s) => s.name).filter(checkable);
          if (sites.length === 0) {
            msg.replyTo.tell([]);
            return state;
          }
          state.collectors.push({ waiting: new Set(sites), results: [], replyTo: msg.replyTo });
          for (const site of sites) enqueue(state, site, msg.dryRun);
          start(state, ctx.self);
          return state;
        }
        case "finished": {
          const entry = state.running.get(msg.site);
          state.running.delete(msg.site);
          if ("error" in msg.result) {
            ctx.log.warn("Consistency check of {site} failed: {error}", {
              site: msg.site,
              error: msg.result.error,
            });
          } else {
            ctx.log.info("Consistency check of {site}", {
              ...msg.result,
              failedDirs: msg.result.failedDirs.length,
            });
          }
          // A failed check counts as a try: the schedule does not retry a broken site in a loop.
          state.lastRun.set(msg.site, ctx.clock.now());
          for (const r of entry?.job.replyTo ?? []) r.tell(msg.result);
          collect(state, msg.site, msg.result);
          start(state, ctx.self);
          return state;
        }
        case "invalidate": {
          invalidateUnrecoverable(options, msg.site).then(
            (r) => msg.replyTo.tell(r),
            (e) => msg.replyTo.tell({ error: e instanceof Error ? e.message : String(e) }),
          );
          return state;
        }
        case "progress":
          msg.replyTo.tell(state.running.get(msg.site)?.progress ?? null);
          return state;
        case "cancel": {
          const queued = state.queue.filter((j) => j.site === msg.site);
          for (const job of queued) {
            state.queue.splice(state.queue.indexOf(job), 1);
            const result = { error: `The check of ${msg.site} was cancelled` };
            for (const r of job.replyTo) r.tell(result);
            collect(state, msg.site, result);
          }
          const running = state.running.get(msg.site);
          // The check ends on its abort; its "finished" message answers its waiters.
          running?.abort.abort(new DOMException(`The check of ${msg.site} was cancelled`, "AbortError"));
          msg.replyTo.tell({ cancelled: running !== undefined || queued.length > 0 });
          return state;
        }
        case "status":
          msg.replyTo.tell({ running: [...state.running.keys()], queued: state.queue.map((j) => j.site) });
          return state;
      }
    },
  };
}
