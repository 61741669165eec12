/**
 * The actors that move and remove bytes: one transfer actor per link
 * (source → destination, /dynamo/fileops/link:SRC:DST) and one deletion actor
 * per site (/dynamo/fileops/delete:SITE). Asked to drain, each runs up to
 * `lanes` tasks at once (the link's slots), every task under a slot from the
 * site actor(s) it touches, claiming from the database (FOR UPDATE SKIP
 * LOCKED, so other processes share the work) until nothing is left, and
 * answers with counts.
 *
 * No handler awaits anything (docs/architecture.md): a lane asks its sites for
 * admission one after the other in address order (so two links sharing sites
 * never each hold what the other waits for) and gets each answer as a message;
 * the claim and the copy run as tasks whose end is a message to this actor;
 * slots go back by message when the task ends or the site refuses.
 *
 * Stop: onStop waits for the tasks in hand (its own promises), gives every
 * site slot back, answers the waiting drain and gives back what the worker
 * still holds in the database.
 *
 * Crash and restart: an error that is not a transfer failure (the database
 * went away) ends the lane; when the last lane has ended the actor crashes,
 * onStop answers the waiting drain with the error, and the new incarnation
 * tells its sites to take back every slot of the dead one and gives back the
 * tasks it held, so they are re-run (idempotently) on the next drain.
 */
import type { Subscription } from "../../adapters/db/fileops_store_port.ts";
import type { ActorContext, ActorRef, Behavior } from "../runtime/mod.ts";
import type { SiteAdmission, SiteMsg } from "../site/site_actor.ts";
import type { SiteUse } from "../../policies/fileops/site_access.ts";
import { type FileTaskDeps, runCopy, runDeletion, type TaskResult } from "./file_task.ts";

export interface DrainCounts {
  done: number;
  failed: number;
  staging: number;
  /** Why the drain stopped early: a site it uses went down (or to morgue, for a copy's destination). */
  closed?: string;
}

export type DrainReply = DrainCounts | { error: string };

export type FileWorkerMsg =
  | { type: "drain"; replyTo: ActorRef<DrainReply> }
  | SiteAdmission
  // The ends of this actor's own tasks:
  | { type: "claimed"; lane: number; tasks: Subscription[] }
  | { type: "ran"; lane: number; counts: DrainCounts }
  | { type: "lane_failed"; lane: number; error: unknown };

export interface FileWorkerOptions {
  tasks: FileTaskDeps;
  /** This worker's id before its incarnation number; tasks it claims carry `${workerPrefix}${n}`. */
  workerPrefix: string;
  /** Concurrent tasks of this actor (the link's, or the deletion site's, slots). */
  lanes: number;
  /** Tasks claimed at once per lane (deletions are batched; copies go one by one). */
  batch: number;
  leaseMs: number;
  /** The site actors whose slots each task needs. */
  sites: ActorRef<SiteMsg>[];
  /** What each site (same order as `sites`) is used for; a site whose status stops allowing it is closed. */
  uses?: SiteUse[];
}

interface Lane {
  /** The admission ticket of this lane's current task. */
  ticket: string;
  /** Sites (in address order) that admitted this ticket so far. */
  admitted: number;
}

interface Drain {
  replyTo: ActorRef<DrainReply>[];
  counts: DrainCounts;
  lanes: Map<number, Lane>;
  broken: { error: unknown } | null;
  /** A site this drain uses went down (or to morgue, for a copy's destination): no lane starts a new task. */
  closed: string | null;
}

interface WorkerState {
  worker: string;
  drain: Drain | null;
  /** Claims and task runs in flight: onStop lets them end before giving anything back. */
  inflight: Set<Promise<unknown>>;
  tickets: number;
}

function fileWorker(
  kind: "copy" | "deletion",
  filter: { site: string; source?: string },
  run: (deps: FileTaskDeps, worker: string, task: Subscription) => Promise<TaskResult>,
  options: FileWorkerOptions,
): Behavior<FileWorkerMsg, WorkerState> {
  const useOf = new Map(options.sites.map((ref, i) => [ref.address, options.uses?.[i]]));
  const sites = [...options.sites].sort((a, b) => (a.address < b.address ? -1 : 1));
  const acquire = (site: ActorRef<SiteMsg>, ticket: string, ctx: ActorContext<FileWorkerMsg>) => {
    const use = useOf.get(site.address);
    site.tell({ type: "acquire", holder: ctx.self, ticket, ...(use ? { use } : {}) });
  };
  type Ctx = ActorContext<FileWorkerMsg>;

  const track = (state: WorkerState, p: Promise<unknown>) => {
    state.inflight.add(p);
    p.finally(() => state.inflight.delete(p));
  };
  const releaseSlots = (lane: Lane, ctx: Ctx) => {
    for (const site of sites.slice(0, lane.admitted)) {
      site.tell({ type: "release", holder: ctx.self.address, ticket: lane.ticket });
    }
    lane.admitted = 0;
  };
  /** The lane asks for the slots of its next task (or ends when the drain is over). */
  const startLane = (state: WorkerState, drain: Drain, id: number, ctx: Ctx) => {
    if (drain.broken || drain.closed || ctx.stopping.aborted) return endLane(state, drain, id, ctx);
    const lane = { ticket: `${ctx.incarnation}.${++state.tickets}`, admitted: 0 };
    drain.lanes.set(id, lane);
    acquire(sites[0]!, lane.ticket, ctx);
  };
  const endLane = (state: WorkerState, drain: Drain, id: number, _ctx: Ctx) => {
    drain.lanes.delete(id);
    if (drain.lanes.size > 0) return;
    state.drain = null;
    // Every lane has ended, so no task of this incarnation is still running when the next one gives
    // its tasks back.
    if (drain.broken) {
      state.drain = drain; // onStop answers its callers with the error
      throw drain.broken.error;
    }
    for (const r of drain.replyTo) {
      r.tell({ ...drain.counts, ...(drain.closed ? { closed: drain.closed } : {}) });
    }
  };
  const laneOf = (drain: Drain | null, ticket: string): [number, Lane] | undefined =>
    drain ? [...drain.lanes].find(([, l]) => l.ticket === ticket) : undefined;

  return {
    init(ctx) {
      // Slots a dead incarnation held (or asked for) come back.
      for (const site of sites) site.tell({ type: "release_all", holder: ctx.self.address });
      const state: WorkerState = {
        worker: `${options.workerPrefix}${ctx.incarnation}`,
        drain: null,
        inflight: new Set(),
        tickets: 0,
      };
      if (ctx.incarnation === 1) return state;
      return options.tasks.store.recoverTasks(options.tasks.nowMs(), options.workerPrefix).then((given) => {
        ctx.log.warn("Restarted; {n} tasks of the crashed incarnation given back", { n: given });
        return state;
      });
    },
    receive(state, msg, ctx) {
      switch (msg.type) {
        case "drain": {
          if (state.drain) {
            state.drain.replyTo.push(msg.replyTo); // answered with this drain's counts
            return state;
          }
          const drain: Drain = {
            replyTo: [msg.replyTo],
            counts: { done: 0, failed: 0, staging: 0 },
            lanes: new Map(),
            broken: null,
            closed: null,
          };
          state.drain = drain;
          for (let i = 0; i < options.lanes; i++) startLane(state, drain, i, ctx);
          return state;
        }
        case "admitted": {
          const found = laneOf(state.drain, msg.ticket);
          if (!found) {
            // A ticket of a drain that ended: give the slot straight back (a site that does not hold
            // the ticket ignores the release).
            for (const site of sites) {
              site.tell({ type: "release", holder: ctx.self.address, ticket: msg.ticket });
            }
            return state;
          }
          const [id, lane] = found;
          lane.admitted++;
          if (lane.admitted < sites.length) {
            acquire(sites[lane.admitted]!, lane.ticket, ctx);
            return state;
          }
          const { store, nowMs } = options.tasks;
          track(
            state,
            ctx.pipe(
              store.claim(kind, filter, state.worker, options.batch, nowMs(), options.leaseMs),
              (tasks) => ({ type: "claimed", lane: id, tasks }),
              (error) => ({ type: "lane_failed", lane: id, error }),
            ),
          );
          return state;
        }
        case "site_closed": {
          // Told by the site as its status changes: the tasks running finish, no new one starts there.
          if (state.drain) state.drain.closed ??= `${msg.site} is ${msg.status}`;
          ctx.log.info("Site {site} is now {status}: no new task starts there", msg);
          return state;
        }
        case "refused": {
          const found = laneOf(state.drain, msg.ticket);
          if (!found) return state;
          const [id, lane] = found;
          state.drain!.closed ??= `${msg.site} is ${msg.status}`;
          releaseSlots(lane, ctx); // the slots taken go back; the drain ends for this lane
          endLane(state, state.drain!, id, ctx);
          return state;
        }
        case "claimed": {
          const drain = state.drain!;
          const lane = drain.lanes.get(msg.lane)!;
          if (msg.tasks.length === 0) {
            releaseSlots(lane, ctx);
            endLane(state, drain, msg.lane, ctx);
            return state;
          }
          track(
            state,
            ctx.pipe(
              (async () => {
                const counts: DrainCounts = { done: 0, failed: 0, staging: 0 };
                for (const task of msg.tasks) {
                  if (ctx.stopping.aborted) break; // the rest of a batch is given back by onStop
                  counts[await run(options.tasks, state.worker, task)]++;
                }
                return counts;
              })(),
              (counts) => ({ type: "ran", lane: msg.lane, counts }),
              (error) => ({ type: "lane_failed", lane: msg.lane, error }),
            ),
          );
          return state;
        }
        case "ran": {
          const drain = state.drain!;
          for (const k of ["done", "failed", "staging"] as const) drain.counts[k] += msg.counts[k];
          releaseSlots(drain.lanes.get(msg.lane)!, ctx);
          startLane(state, drain, msg.lane, ctx);
          return state;
        }
        case "lane_failed": {
          // One lane failing stops the others claiming; the crash comes when the last lane has ended.
          const drain = state.drain!;
          drain.broken ??= { error: msg.error };
          releaseSlots(drain.lanes.get(msg.lane)!, ctx);
          endLane(state, drain, msg.lane, ctx);
          return state;
        }
      }
    },
    async onStop(state, ctx, reason) {
      await Promise.allSettled([...state.inflight]); // this actor's own tasks, not another actor
      for (const site of sites) site.tell({ type: "release_all", holder: ctx.self.address });
      const drain = state.drain;
      state.drain = null;
      if (reason.kind === "restart" || reason.kind === "failure") {
        const error = reason.error instanceof Error ? reason.error.message : String(reason.error);
        for (const r of drain?.replyTo ?? []) r.tell({ error });
        return;
      }
      for (const r of drain?.replyTo ?? []) r.tell(drain!.counts);
      // A graceful stop hands back what this worker still holds (the unstarted rest of a batch), so that
      // another process, or this one after its restart, takes it at once rather than after the lease.
      const given = await options.tasks.store.recoverTasks(options.tasks.nowMs(), options.workerPrefix)
        .catch(() => 0);
      if (given > 0) ctx.log.info("Stopping; {n} claimed tasks given back", { n: given });
    },
  };
}

export function transferActor(source: string, destination: string, options: FileWorkerOptions) {
  return fileWorker("copy", { source, site: destination }, runCopy, options);
}

export function deletionActor(site: string, options: FileWorkerOptions) {
  return fileWorker("deletion", { site }, runDeletion, options);
}
