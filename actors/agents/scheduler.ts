/**
 * The scheduler (spec §7): runs the sequences of a sequence file, and
 * applications submitted by hand, against the service's own agents. At most
 * one application that writes the inventory (`<title>`) runs at a time;
 * read-only ones (`{title}`) run beside it. An application lock on an
 * application's name pauses its steps until the lock is released. WAIT and
 * retry delays are timers on the injected clock.
 *
 * The actor never awaits an application inside a message: a run reports back
 * with a `finished` message, so listing, stopping and killing stay responsive
 * while Detox works for an hour.
 */
import type {
  AppDefinition,
  SequenceDefinition,
  SequenceFile,
} from "../../policies/scheduler/sequence_file.ts";
import { nextPosition, startPosition } from "../../policies/scheduler/sequence_cursor.ts";
import { dispatch as dispatchActions } from "../../policies/scheduler/dispatch.ts";
import type { AppLockStore } from "../../adapters/db/app_lock_store_port.ts";
import type { ApplicationStatus, SchedulerStore } from "../../adapters/db/scheduler_store_port.ts";
import type { ActorContext, ActorRef, Behavior } from "../runtime/mod.ts";

/** How one application is carried out. */
export interface ApplicationRunner {
  /** The application lock that pauses it (`detox`, `dealer`, …). */
  readonly lockName: string;
  /** Resolves with a one-line summary; rejects (or is aborted) on failure. */
  run(args: readonly string[], signal: AbortSignal): Promise<string>;
}

/** The runner for an application definition; null when there is none (the run ends `notfound`). */
export type ResolveApplication = (app: AppDefinition) => ApplicationRunner | null;

export interface SchedulerOptions {
  file: SequenceFile;
  store: SchedulerStore;
  resolve: ResolveApplication;
  appLocks?: AppLockStore;
  /** Resolves once the inventory is loaded: nothing starts before (the agents would refuse). */
  inventoryReady?: Promise<void>;
  /** How often locked or waiting steps are looked at again (original: 10 s). */
  tickMs?: number;
  /** Before a failed `&` step runs again. */
  retryDelayMs?: number;
  /** An application without `[hours]` is killed after this long. */
  defaultTimeoutMs?: number;
}

export interface SequenceView {
  name: string;
  enabled: boolean;
  restart: boolean;
  position: number;
  steps: number;
  /** The line of the sequence file the sequence is at. */
  line: number;
  /** stopped | running TITLE | waiting | locked by … | writer busy | ready. */
  status: string;
  /** Unix ms before which nothing runs (a WAIT or a retry delay); null if none. */
  notBefore: number | null;
}

export type SchedulerReply<T> = T | { error: string };

export type SchedulerMsg =
  | { type: "tick" }
  | { type: "inventory_ready" }
  | { type: "finished"; runId: number; status: ApplicationStatus; message: string }
  | { type: "timeout"; runId: number }
  | { type: "list"; replyTo: ActorRef<SequenceView[]> }
  | { type: "start"; name: string; replyTo: ActorRef<SchedulerReply<SequenceView>> }
  | { type: "stop"; name: string; replyTo: ActorRef<SchedulerReply<SequenceView>> }
  | {
    type: "submit";
    title: string;
    args: string[];
    user: string | null;
    replyTo: ActorRef<SchedulerReply<{ id: number }>>;
  }
  | { type: "kill"; id: number; replyTo: ActorRef<SchedulerReply<{ killed: boolean }>> };

interface Running {
  runId: number;
  title: string;
  write: boolean;
  /** The sequence the run belongs to; null for a run submitted by hand. */
  sequence: string | null;
  abort: AbortController;
  ending: ApplicationStatus | null;
}

interface SequenceRuntime {
  def: SequenceDefinition;
  enabled: boolean;
  position: number;
  notBefore: number;
  running: Running | null;
  /** Why the current step did not start at the last look (for `sequence list`). */
  blocked: string | null;
}

interface Queued {
  id: number;
  title: string;
  args: string[];
  write: boolean;
}

interface SchedulerState {
  inventoryReady: boolean;
  sequences: Map<string, SequenceRuntime>;
  queue: Queued[];
  running: Map<number, Running>;
}

const DEFAULT_TICK_MS = 10_000;
const DEFAULT_RETRY_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 6 * 3600_000;

export function scheduler(options: SchedulerOptions): Behavior<SchedulerMsg, SchedulerState> {
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  return {
    async init(ctx) {
      const now = ctx.clock.now();
      const interrupted = await options.store.failInterrupted(now);
      if (interrupted > 0) {
        ctx.log.warn("{n} application runs were interrupted by a restart", { n: interrupted });
      }
      const saved = new Map((await options.store.sequenceStates()).map((s) => [s.name, s]));
      const sequences = new Map<string, SequenceRuntime>();
      for (const def of options.file.sequences) {
        const state = saved.get(def.name);
        sequences.set(def.name, {
          def,
          // A sequence of the file runs unless an operator stopped it.
          enabled: state?.enabled ?? true,
          position: startPosition(def, state?.position ?? null),
          notBefore: 0,
          running: null,
          blocked: null,
        });
      }
      const queue = (await options.store.queuedRuns()).map((r) => ({
        id: r.id,
        title: r.title,
        args: r.args,
        write: r.write,
      }));
      ctx.timers.startPeriodic("tick", tickMs, { type: "tick" });
      ctx.self.tell({ type: "tick" });
      const self = ctx.self;
      options.inventoryReady?.then(() => self.tell({ type: "inventory_ready" }), () => {});
      return { inventoryReady: options.inventoryReady === undefined, sequences, queue, running: new Map() };
    },

    async receive(state, msg, ctx) {
      switch (msg.type) {
        case "tick":
          await dispatch(state, options, ctx);
          return state;
        case "inventory_ready":
          state.inventoryReady = true;
          await dispatch(state, options, ctx);
          return state;
        case "timeout": {
          const run = state.running.get(msg.runId);
          if (run && run.ending === null) {
            run.ending = "failed";
            run.abort.abort(new Error("timed out"));
          }
          return state;
        }
        case "finished":
          await finished(state, msg, options, ctx);
          await dispatch(state, options, ctx);
          return state;
        case "list":
          // In file order (dispatch keeps its own round-robin order).
          msg.replyTo.tell(
            options.file.sequences.map((d) => view(state.sequences.get(d.name)!, ctx.clock.now())),
          );
          return state;
        case "start":
        case "stop": {
          const sequence = state.sequences.get(msg.name);
          if (!sequence) {
            msg.replyTo.tell({ error: `no sequence ${JSON.stringify(msg.name)} in the sequence file` });
            return state;
          }
          if (msg.type === "start" && !sequence.enabled) {
            sequence.enabled = true;
            sequence.position = startPosition(sequence.def, sequence.position);
            sequence.notBefore = 0;
          } else if (msg.type === "stop") {
            // A running step finishes; the sequence does not go on.
            sequence.enabled = false;
          }
          await save(sequence, options, ctx);
          if (msg.type === "start") await dispatch(state, options, ctx);
          msg.replyTo.tell(view(sequence, ctx.clock.now()));
          return state;
        }
        case "submit": {
          const app = options.file.apps.get(msg.title);
          if (!app) {
            msg.replyTo.tell({
              error: `no application ${JSON.stringify(msg.title)} in the sequence file (defined: ${
                [...options.file.apps.keys()].join(", ")
              })`,
            });
            return state;
          }
          const id = await options.store.createRun(
            { title: app.title, args: msg.args, write: app.write, sequence: null, user: msg.user },
            ctx.clock.now(),
          );
          state.queue.push({ id, title: app.title, args: msg.args, write: app.write });
          msg.replyTo.tell({ id });
          await dispatch(state, options, ctx);
          return state;
        }
        case "kill": {
          const queued = state.queue.findIndex((q) => q.id === msg.id);
          if (queued >= 0) {
            state.queue.splice(queued, 1);
            await options.store.finishRun(msg.id, "killed", "killed before it started", ctx.clock.now());
            msg.replyTo.tell({ killed: true });
            return state;
          }
          const run = state.running.get(msg.id);
          if (!run) {
            msg.replyTo.tell({ error: `application run ${msg.id} is not queued or running` });
            return state;
          }
          if (run.ending === null) {
            run.ending = "killed";
            run.abort.abort(new Error("killed"));
          }
          msg.replyTo.tell({ killed: true });
          return state;
        }
      }
    },

    async onStop(state, ctx) {
      // Hand back: runs still going are recorded as interrupted, and told to stop.
      for (const run of state.running.values()) {
        run.abort.abort(new Error("the scheduler is stopping"));
        await options.store.finishRun(
          run.runId,
          "failed",
          "interrupted: the scheduler stopped",
          ctx.clock.now(),
        )
          .catch(() => {});
      }
    },
  };
}

/** Starts whatever may start now (policies/scheduler/dispatch.ts decides what). */
async function dispatch(
  state: SchedulerState,
  options: SchedulerOptions,
  ctx: ActorContext<SchedulerMsg>,
): Promise<void> {
  const actions = dispatchActions({
    nowMs: ctx.clock.now(),
    inventoryReady: state.inventoryReady,
    apps: options.file.apps,
    locks: state.inventoryReady ? ((await options.appLocks?.appLocks()) ?? []) : [],
    lockName: (app) => options.resolve(app)?.lockName ?? app.title,
    writerRunning: [...state.running.values()].some((r) => r.write),
    queue: state.queue,
    sequences: [...state.sequences.values()].map((s) => ({ ...s, running: s.running !== null })),
  });
  for (const action of actions) {
    if (action.kind === "start_queued") {
      const queued = state.queue.find((q) => q.id === action.id)!;
      state.queue.splice(state.queue.indexOf(queued), 1);
      await launch(state, { ...queued, sequence: null }, options, ctx);
      continue;
    }
    const sequence = state.sequences.get(action.sequence)!;
    switch (action.kind) {
      case "blocked":
        sequence.blocked = action.reason;
        break;
      case "wait":
        sequence.notBefore = ctx.clock.now() + action.waitMs;
        sequence.position = action.position;
        ctx.timers.startSingle(`wake:${sequence.def.name}`, action.waitMs, { type: "tick" });
        await save(sequence, options, ctx);
        break;
      case "terminate":
        ctx.log.info("Sequence {name} terminated", { name: sequence.def.name });
        sequence.enabled = false;
        sequence.position = 0;
        await save(sequence, options, ctx);
        break;
      case "start_step": {
        sequence.blocked = null;
        const { app, args } = action;
        const id = await options.store.createRun(
          { title: app.title, args: [...args], write: app.write, sequence: sequence.def.name, user: null },
          ctx.clock.now(),
        );
        // Round robin: a sequence that just started a step goes to the back.
        state.sequences.delete(sequence.def.name);
        state.sequences.set(sequence.def.name, sequence);
        sequence.running = await launch(
          state,
          { id, title: app.title, args: [...args], write: app.write, sequence: sequence.def.name },
          options,
          ctx,
          action.timeoutHours,
        );
        break;
      }
    }
  }
}

/** Starts one run; its result comes back as a `finished` message. */
async function launch(
  state: SchedulerState,
  run: Queued & { sequence: string | null },
  options: SchedulerOptions,
  ctx: ActorContext<SchedulerMsg>,
  /** The step's `[hours]`; null (and runs by hand) take the scheduler's default. */
  timeoutHours: number | null = null,
): Promise<Running> {
  const timeoutMs = timeoutHours === null
    ? (options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS)
    : timeoutHours * 3600_000;
  const running: Running = {
    runId: run.id,
    title: run.title,
    write: run.write,
    sequence: run.sequence,
    abort: new AbortController(),
    ending: null,
  };
  state.running.set(run.id, running);
  const runner = options.resolve(options.file.apps.get(run.title)!);
  if (!runner) {
    const path = options.file.apps.get(run.title)!.path;
    ctx.self.tell({
      type: "finished",
      runId: run.id,
      status: "notfound",
      message: `no application at ${path}`,
    });
    return running;
  }
  await options.store.startRun(run.id, ctx.clock.now());
  ctx.timers.startSingle(`timeout:${run.id}`, timeoutMs, { type: "timeout", runId: run.id });
  ctx.log.info("Application {title} started (run {id})", { title: run.title, id: run.id, args: run.args });
  const self = ctx.self;
  runner.run(run.args, running.abort.signal).then(
    (message) => self.tell({ type: "finished", runId: run.id, status: "done", message }),
    (e) =>
      self.tell({
        type: "finished",
        runId: run.id,
        status: running.ending ?? "failed",
        message: e instanceof Error ? e.message : String(e),
      }),
  );
  return running;
}

async function finished(
  state: SchedulerState,
  msg: Extract<SchedulerMsg, { type: "finished" }>,
  options: SchedulerOptions,
  ctx: ActorContext<SchedulerMsg>,
): Promise<void> {
  const run = state.running.get(msg.runId);
  // A run of an earlier incarnation: its row was marked interrupted at start.
  if (!run) return;
  state.running.delete(msg.runId);
  ctx.timers.cancel(`timeout:${msg.runId}`);
  const status = msg.status === "done" && run.ending ? run.ending : msg.status;
  await options.store.finishRun(msg.runId, status, msg.message.slice(0, 2000), ctx.clock.now());
  const props = { title: run.title, status, message: msg.message, id: run.runId };
  if (status === "done") ctx.log.info("Application {title} {status}: {message}", props);
  else ctx.log.warn("Application {title} {status}: {message}", props);
  if (run.sequence === null) return;
  const sequence = state.sequences.get(run.sequence);
  if (!sequence || sequence.running !== run) return;
  sequence.running = null;
  const move = nextPosition(sequence.def, sequence.position, status === "done" ? "done" : "failed");
  sequence.position = move.position;
  if (move.retry) {
    const delay = options.retryDelayMs ?? DEFAULT_RETRY_MS;
    sequence.notBefore = ctx.clock.now() + delay;
    ctx.timers.startSingle(`wake:${sequence.def.name}`, delay, { type: "tick" });
  }
  await save(sequence, options, ctx);
}

async function save(sequence: SequenceRuntime, options: SchedulerOptions, ctx: ActorContext<SchedulerMsg>) {
  await options.store.saveSequence(
    { name: sequence.def.name, enabled: sequence.enabled, position: sequence.position },
    ctx.clock.now(),
  );
}

function view(s: SequenceRuntime, now: number): SequenceView {
  return {
    name: s.def.name,
    enabled: s.enabled,
    restart: s.def.restart,
    position: s.position,
    steps: s.def.steps.length,
    line: s.def.steps[s.position]?.line ?? s.def.line,
    status: !s.enabled
      ? "stopped"
      : s.running
      ? `running ${s.running.title}`
      : s.blocked ?? (s.notBefore > now ? "waiting" : "ready"),
    notBefore: s.notBefore > 0 ? s.notBefore : null,
  };
}
