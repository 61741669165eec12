/**
 * The file-operations agent (/dynamo/fileops): on its schedule and on request
 * runs one FileOpsEngine pass. It supervises the workers that touch storage,
 * started as work appears and kept: a site actor per site (slots, status;
 * in the service those of the /sites supervisor, see `siteRef`),
 * a transfer actor per link (link:SRC:DST) and a deletion actor per site
 * (delete:SITE), in file_worker.ts.
 *
 * A new incarnation first gives back the tasks an earlier incarnation of this
 * node had claimed (it died holding them), so a crash or kill -9 costs one
 * re-run per in-flight file, never a lost file.
 */
import type { FileOpsStore } from "../../adapters/db/fileops_store_port.ts";
import type { SiteStorageResolver } from "../../adapters/storage/storage_port.ts";
import { type ActorContext, type ActorRef, type Behavior, replyChannel } from "../runtime/mod.ts";
import { siteActor, type SiteMsg } from "../site/site_actor.ts";
import { idPart } from "../site/site_address.ts";
import {
  DEFAULT_FILEOPS_LIMITS,
  type FileOpsDeps,
  FileOpsEngine,
  type FileOpsExecutor,
  type FileOpsPassSummary,
} from "./fileops_engine.ts";
import type { FileTaskDeps } from "./file_task.ts";
import { deletionActor, type DrainReply, type FileWorkerMsg, transferActor } from "./file_worker.ts";

export interface FileOpsAgentOptions extends Omit<FileOpsDeps, "executor" | "nowMs"> {
  store: FileOpsStore;
  storage: SiteStorageResolver;
  /** Identifies this node (host and data directory); worker ids start with it. */
  node: string;
  /** Between passes; 0 = only on request. */
  intervalMs: number;
  /** Told of every copy landed and deletion done (the dataset actors). */
  onFileDone?: FileTaskDeps["onFileDone"];
  /**
   * The site actor of a site (in the service, /sites/NAME under the /sites supervisor). Without it the
   * agent spawns its own site actors as children (site:NAME), started when a site first has work.
   */
  siteRef?: (site: string) => ActorRef<SiteMsg>;
}

export type FileOpsMsg =
  | { type: "tick" }
  | { type: "run"; replyTo: ActorRef<FileOpsPassSummary | { error: string }> }
  /** The end of this agent's own pass task. */
  | { type: "pass_done"; pass: string; summary: FileOpsPassSummary }
  | { type: "pass_failed"; pass: string; error: unknown };

type PassReply = ActorRef<FileOpsPassSummary | { error: string }>;

interface AgentState {
  engine: FileOpsEngine;
  /** The pass in flight (a task of this agent), and who waits for its summary. */
  running: { id: string; done: Promise<void>; replyTo: PassReply[] } | null;
  /** Asked for while a pass ran: one more pass starts when it ends, for all of them. */
  next: { replyTo: PassReply[] } | null;
  passes: number;
}

let incarnations = 0;

/**
 * The pass runs as a task whose end is a message to this agent (docs/architecture.md: no handler awaits
 * another actor, and the pass waits for the link and deletion actors' drains): the agent stays
 * responsive meanwhile, ticks and runs arriving during a pass are folded into one next pass.
 */
export function fileOpsAgent(options: FileOpsAgentOptions): Behavior<FileOpsMsg, AgentState> {
  const start = (state: AgentState, replyTo: PassReply[], ctx: ActorContext<FileOpsMsg>) => {
    // Tagged with the incarnation: the end of a dead incarnation's pass is not this one's.
    const id = `${ctx.incarnation}.${++state.passes}`;
    state.running = {
      id,
      replyTo,
      done: ctx.pipe(
        state.engine.pass(),
        (summary) => ({ type: "pass_done", pass: id, summary }),
        (error) => ({ type: "pass_failed", pass: id, error }),
      ),
    };
  };
  return {
    // Workers restart on their own (a crashed link must not stop the others); a burst escalates.
    supervision: { strategy: "one_for_one", intensity: { maxRestarts: 20, withinMs: 60_000 } },
    async init(ctx) {
      const recovered = await options.store.recoverTasks(ctx.clock.now(), `${options.node}:`);
      if (recovered > 0) {
        ctx.log.info("File operations: {n} tasks of a dead worker given back", { n: recovered });
      }
      if (options.intervalMs > 0) ctx.timers.startPeriodic("pass", options.intervalMs, { type: "tick" });
      const worker = `${options.node}:${Deno.pid}:${++incarnations}`;
      const engine = new FileOpsEngine({
        ...options,
        nowMs: () => ctx.clock.now(),
        executor: workerTree(ctx, options, worker),
      });
      return { engine, running: null, next: null, passes: 0 };
    },
    receive(state, msg, ctx) {
      switch (msg.type) {
        case "tick":
        case "run": {
          const replyTo = msg.type === "run" ? [msg.replyTo] : [];
          if (!state.running) start(state, replyTo, ctx);
          else {
            state.next ??= { replyTo: [] };
            state.next.replyTo.push(...replyTo);
          }
          return state;
        }
        case "pass_done": {
          if (!state.running || state.running.id !== msg.pass) return state;
          ctx.log.info("File operations pass", { ...msg.summary });
          for (const r of state.running.replyTo) r.tell(msg.summary);
          state.running = null;
          const next = state.next;
          state.next = null;
          if (next) start(state, next.replyTo, ctx);
          return state;
        }
        case "pass_failed": {
          if (!state.running || state.running.id !== msg.pass) return state;
          const error = msg.error instanceof Error ? msg.error.message : String(msg.error);
          for (const r of [...state.running.replyTo, ...state.next?.replyTo ?? []]) r.tell({ error });
          state.running = null;
          state.next = null;
          throw msg.error; // the supervisor restarts us; the next pass resumes from the database
        }
      }
    },
    async onStop(state) {
      // The children have stopped (their drains answered): let this agent's own pass task end.
      await state.running?.done;
      for (const r of state.next?.replyTo ?? []) r.tell({ error: "file operations stopped" });
    },
  };
}

/** The agent's children, spawned the first time a site or link has work. */
function workerTree(
  ctx: ActorContext<FileOpsMsg>,
  options: FileOpsAgentOptions,
  worker: string,
): FileOpsExecutor {
  const limits = { ...DEFAULT_FILEOPS_LIMITS, ...options.limits };
  const tasks: FileTaskDeps = {
    store: options.store,
    storage: options.storage,
    snapshot: options.snapshot,
    nowMs: () => ctx.clock.now(),
    maxAttempts: limits.maxAttempts,
    stageCheckMs: limits.stageCheckMs,
    ...(options.onFileDone ? { onFileDone: options.onFileDone } : {}),
  };
  const sites = new Map<string, ActorRef<SiteMsg>>();
  const workers = new Map<string, ActorRef<FileWorkerMsg>>();
  const site = (name: string) => {
    if (options.siteRef) return options.siteRef(name);
    let ref = sites.get(name);
    if (!ref) {
      ref = ctx.spawn<SiteMsg>({
        id: `site:${idPart(name)}`,
        restart: "permanent",
        behavior: () =>
          siteActor({ site: name, parallelism: limits.siteParallelism, snapshot: options.snapshot }),
      });
      sites.set(name, ref);
    }
    return ref;
  };
  const drain = (id: string, behavior: (workerPrefix: string) => Behavior<FileWorkerMsg, unknown>) => {
    let ref = workers.get(id);
    if (!ref) {
      ref = ctx.spawn<FileWorkerMsg>({
        id,
        restart: "permanent",
        shutdownMs: 60_000,
        behavior: () => behavior(`${worker}/${id}#`),
      });
      workers.set(id, ref);
    }
    const { ref: replyTo, reply } = replyChannel<DrainReply>(`${ctx.address}/${id}/drain`);
    ref.tell({ type: "drain", replyTo });
    return reply;
  };
  return {
    drainLink: (source, destination) =>
      drain(
        `link:${idPart(source)}:${idPart(destination)}`,
        (workerPrefix) =>
          transferActor(source, destination, {
            tasks,
            workerPrefix,
            lanes: limits.linkParallelism,
            batch: 1,
            leaseMs: limits.leaseMs,
            sites: [site(source), site(destination)],
            uses: ["serve", "receive"],
          }),
      ),
    drainDeletions: (name) =>
      drain(`delete:${idPart(name)}`, (workerPrefix) =>
        deletionActor(name, {
          tasks,
          workerPrefix,
          lanes: Math.min(limits.linkParallelism, limits.siteParallelism),
          batch: limits.deletionBatch,
          leaseMs: limits.leaseMs,
          sites: [site(name)],
          uses: ["delete"],
        })),
  };
}
