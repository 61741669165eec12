/**
 * The actors that move and remove bytes: one transfer actor per link
 * (source → destination, /dynamo/fileops/link:SRC:DST) and one deletion actor
 * per site (/dynamo/fileops/delete:SITE). Asked to drain, each runs up to
 * `lanes` tasks at once, every task under a slot from the site actor(s) it
 * touches, claiming from the database (FOR UPDATE SKIP LOCKED, so other
 * processes share the work) until nothing is left, and answers with counts.
 *
 * Stop: lanes finish the task in hand and claim no more; what the worker
 * still holds is given back.
 *
 * Crash and restart: an error that is not a transfer failure (the database
 * went away) crashes the actor; onStop answers the waiting drain with the
 * error, and the new incarnation's init gives back the tasks its dead
 * incarnations held, so they are re-run (idempotently) on the next drain.
 */
import type { Subscription } from "../../adapters/db/fileops_store_port.ts";
import { type ActorRef, type Behavior, replyChannel } from "../runtime/mod.ts";
import type { SiteGrant, SiteMsg } from "../site/site_actor.ts";
import { type FileTaskDeps, runCopy, runDeletion, type TaskResult } from "./file_task.ts";

export interface DrainCounts {
  done: number;
  failed: number;
  staging: number;
}

export type DrainReply = DrainCounts | { error: string };

export type FileWorkerMsg = { type: "drain"; replyTo: ActorRef<DrainReply> };

export interface FileWorkerOptions {
  tasks: FileTaskDeps;
  /** This worker's id before its incarnation number; tasks it claims carry `${workerPrefix}${n}`. */
  workerPrefix: string;
  /** Concurrent tasks of this actor. */
  lanes: number;
  /** Tasks claimed at once per lane (deletions are batched; copies go one by one). */
  batch: number;
  leaseMs: number;
  /** The site actors whose slots each task needs. */
  sites: ActorRef<SiteMsg>[];
}

interface WorkerState {
  worker: string;
  drainReply: ActorRef<DrainReply> | null;
}

function fileWorker(
  kind: "copy" | "deletion",
  filter: { site: string; source?: string },
  run: (deps: FileTaskDeps, worker: string, task: Subscription) => Promise<TaskResult>,
  options: FileWorkerOptions,
): Behavior<FileWorkerMsg, WorkerState> {
  return {
    async init(ctx) {
      if (ctx.incarnation > 1) {
        const given = await options.tasks.store.recoverTasks(options.tasks.nowMs(), options.workerPrefix);
        ctx.log.warn("Restarted; {n} tasks of the crashed incarnation given back", { n: given });
      }
      return { worker: `${options.workerPrefix}${ctx.incarnation}`, drainReply: null };
    },
    async receive(state, msg, ctx) {
      state.drainReply = msg.replyTo;
      const counts: DrainCounts = { done: 0, failed: 0, staging: 0 };
      let broken = false;
      const lane = async () => {
        // A stop of the service lets each lane finish its task and claim nothing more.
        while (!broken && !ctx.stopping.aborted) {
          const granted = await acquireAll(options.sites);
          if (!granted) return;
          try {
            const tasks = await options.tasks.store.claim(
              kind,
              filter,
              state.worker,
              options.batch,
              options.tasks.nowMs(),
              options.leaseMs,
            );
            if (tasks.length === 0) return;
            for (const task of tasks) {
              if (ctx.stopping.aborted) break; // the rest of a batch is given back by onStop
              counts[await run(options.tasks, state.worker, task)]++;
            }
          } finally {
            for (const site of options.sites) site.tell({ type: "release" });
          }
        }
      };
      // One lane failing stops the others claiming; the crash waits for their current tasks, so no
      // lane of this incarnation is still working when the next one gives its tasks back.
      const lanes = await Promise.allSettled(Array.from({ length: options.lanes }, () =>
        lane().catch((e) => {
          broken = true;
          throw e;
        })));
      const failed = lanes.find((l) => l.status === "rejected");
      if (failed) throw failed.reason;
      state.drainReply = null;
      msg.replyTo.tell(counts);
      return state;
    },
    async onStop(state, ctx, reason) {
      if (reason.kind === "restart" || reason.kind === "failure") {
        const error = reason.error instanceof Error ? reason.error.message : String(reason.error);
        state.drainReply?.tell({ error });
        return;
      }
      state.drainReply?.tell({ done: 0, failed: 0, staging: 0 });
      // A graceful stop hands back what this worker still holds (the unstarted rest of a batch), so that
      // another process, or this one after its restart, takes it at once rather than after the lease.
      const given = await options.tasks.store.recoverTasks(options.tasks.nowMs(), options.workerPrefix)
        .catch(() => 0);
      if (given > 0) ctx.log.info("Stopping; {n} claimed tasks given back", { n: given });
    },
  };
}

/**
 * Slots at every site a task touches, or none: a refused site ends the drain
 * and the slots taken go back. Taken one after the other in address order, so
 * two links that share sites can never each hold what the other waits for.
 */
async function acquireAll(sites: ActorRef<SiteMsg>[]): Promise<boolean> {
  const held: ActorRef<SiteMsg>[] = [];
  for (const site of [...sites].sort((a, b) => (a.address < b.address ? -1 : 1))) {
    const { ref, reply } = replyChannel<SiteGrant>(`${site.address}/acquire`);
    site.tell({ type: "acquire", replyTo: ref });
    if (!(await reply).granted) {
      for (const h of held) h.tell({ type: "release" });
      return false;
    }
    held.push(site);
  }
  return true;
}

export function transferActor(source: string, destination: string, options: FileWorkerOptions) {
  return fileWorker("copy", { source, site: destination }, runCopy, options);
}

export function deletionActor(site: string, options: FileWorkerOptions) {
  return fileWorker("deletion", { site }, runDeletion, options);
}
