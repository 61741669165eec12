/**
 * Dataset actors (/dynamo/datasets/<name>, docs/architecture.md, virtual actors): one
 * per dataset with work, activated by the first message for it, passivated
 * after `idleMs` without one by one shared timer wheel, its state rebuilt from
 * the file-operations tables on activation (never the only copy of anything:
 * a lost message or a passivated actor is made up by the updater's pass).
 *
 * They are entities of this one host actor (as Akka sharding's entities live
 * in their shard region), so an idle dataset costs a map entry, not a cell and
 * a mailbox; messages for one dataset are handled in order, and nothing in a
 * handler awaits another actor: reads, commits and the answers to them are
 * tasks whose end is a message back here.
 *
 * What a dataset actor does: told of every copy that lands and every deletion
 * done (by the file workers, not awaited), it commits the block replica that
 * the last file completes, and a block replica whose last deletion is done
 * leaves the inventory; after either it tells the request tracker, so a copy
 * request completes as soon as its last file lands rather than at the next
 * tracker or updater pass. Asked "where is this dataset's work?", it answers
 * from durable storage (dataset_work.ts).
 */
import type { Subscription } from "../../adapters/db/fileops_store_port.ts";
import type { InventoryCommand, Snapshot } from "../../registry/inventory/mod.ts";
import type { ActorContext, ActorRef, Behavior } from "../runtime/mod.ts";
import { TimerWheel } from "../runtime/timer_wheel.ts";
import { completions, type LandedFiles, landedKey } from "./dataset_landing.ts";
import {
  DATASET_FILE_LIMIT,
  type DatasetWork,
  type DatasetWorkSources,
  readDatasetWork,
} from "./dataset_work.ts";

export const DEFAULT_DATASET_IDLE_MS = 10 * 60_000;

/** Counters for /metrics and the bench; owned by the service, so they outlive a restart of the host. */
export class DatasetActorStats {
  active = 0;
  activations = 0;
  passivations = 0;

  render(): string {
    return [
      "# HELP dynamo_dataset_actors_active Dataset actors active now.",
      "# TYPE dynamo_dataset_actors_active gauge",
      `dynamo_dataset_actors_active ${this.active}`,
      "# HELP dynamo_dataset_actor_activations_total Dataset actors activated.",
      "# TYPE dynamo_dataset_actor_activations_total counter",
      `dynamo_dataset_actor_activations_total ${this.activations}`,
      "# HELP dynamo_dataset_actor_passivations_total Dataset actors passivated after their idle time.",
      "# TYPE dynamo_dataset_actor_passivations_total counter",
      `dynamo_dataset_actor_passivations_total ${this.passivations}`,
      "",
    ].join("\n");
  }
}

export type CommitResult = { ok: true } | { ok: false; error: string };

export interface DatasetActorsOptions {
  sources: DatasetWorkSources;
  snapshot(): Snapshot;
  /** Applies inventory commands (each on its own); its promise is never awaited by a handler. */
  submit(commands: InventoryCommand[]): Promise<CommitResult>;
  /** Told when a dataset's replicas changed, so open requests are followed now. */
  tracker(): ActorRef<{ type: "tick" }> | null;
  /** Idle time before passivation (default 10 minutes). */
  idleMs?: number;
  stats: DatasetActorStats;
}

export type DatasetStatusReply = DatasetWork | { error: string };

export type DatasetMsg =
  /** A copy landed or a deletion was done (status `done` in the store). */
  | { type: "file_done"; file: Subscription }
  | { type: "status"; dataset: string; replyTo: ActorRef<DatasetStatusReply> }
  /** Activates the dataset's actor and nothing else (the bench, warm-up). */
  | { type: "touch"; dataset: string }
  | { type: "wheel" }
  // The ends of this actor's own tasks:
  | { type: "loaded"; dataset: string; files: Subscription[] | null; error?: string }
  | { type: "deletions_checked"; dataset: string; site: string; block: string; open: boolean }
  | { type: "committed"; dataset: string; result: CommitResult };

/** Messages addressed to one dataset's actor. */
type EntityMsg = Extract<DatasetMsg, { type: "file_done" | "status" | "touch" }>;

interface Entity {
  /** Messages waiting for the state to load; null once active. */
  stash: EntityMsg[] | null;
  /** Copies landed and not yet committed by this actor, by site and block. */
  landed: Map<string, LandedFiles> | null;
  /** Tasks in flight (reads, commits): the actor is not passivated meanwhile. */
  busy: number;
}

interface HostState {
  entities: Map<string, Entity>;
  wheel: TimerWheel<string>;
  idleMs: number;
}

export function datasetActors(options: DatasetActorsOptions): Behavior<DatasetMsg, HostState> {
  const idleMs = options.idleMs ?? DEFAULT_DATASET_IDLE_MS;
  const tickMs = Math.max(1, Math.min(idleMs, Math.max(1_000, Math.floor(idleMs / 60))));
  const stats = options.stats;
  return {
    init(ctx) {
      stats.active = 0; // an earlier incarnation's actors went with it
      ctx.timers.startPeriodic("wheel", tickMs, { type: "wheel" });
      return {
        entities: new Map(),
        wheel: new TimerWheel({ tickMs, horizonMs: idleMs, nowMs: ctx.clock.now() }),
        idleMs,
      };
    },
    receive(state, msg, ctx) {
      switch (msg.type) {
        case "file_done":
          deliver(state, msg.file.dataset, msg, ctx);
          return state;
        case "status":
        case "touch":
          deliver(state, msg.dataset, msg, ctx);
          return state;
        case "wheel":
          for (const name of state.wheel.advance(ctx.clock.now())) {
            const entity = state.entities.get(name);
            if (!entity) continue;
            if (entity.busy > 0 || entity.stash !== null) {
              state.wheel.schedule(name, ctx.clock.now() + state.idleMs);
              continue;
            }
            state.entities.delete(name);
            stats.active--;
            stats.passivations++;
          }
          return state;
        case "loaded": {
          const entity = state.entities.get(msg.dataset);
          if (!entity) return state;
          entity.busy--;
          if (msg.files === null) {
            // The store failed: the waiting messages are answered or dropped (the updater's pass makes up).
            ctx.log.warn("Dataset {dataset}: state not loaded: {error}", {
              dataset: msg.dataset,
              error: msg.error,
            });
            for (const m of entity.stash ?? []) {
              if (m.type === "status") m.replyTo.tell({ error: msg.error! });
            }
            state.entities.delete(msg.dataset);
            state.wheel.cancel(msg.dataset);
            stats.active--;
            return state;
          }
          for (const f of msg.files) if (f.kind === "copy" && f.status === "done") addLanded(entity, f);
          const stash = entity.stash ?? [];
          entity.stash = null;
          for (const m of stash) handle(state, msg.dataset, entity, m, ctx);
          return state;
        }
        case "deletions_checked": {
          const entity = state.entities.get(msg.dataset);
          if (entity) entity.busy--;
          if (!msg.open) {
            commit(state, msg.dataset, [{
              op: "block_replica.delete",
              dataset: msg.dataset,
              block: msg.block,
              site: msg.site,
            }], ctx);
          }
          return state;
        }
        case "committed": {
          const entity = state.entities.get(msg.dataset);
          if (entity) entity.busy--;
          if (!msg.result.ok) {
            ctx.log.warn("Dataset {dataset}: inventory update failed: {error}", {
              dataset: msg.dataset,
              error: msg.result.error,
            });
            return state;
          }
          options.tracker()?.tell({ type: "tick" });
          return state;
        }
      }
    },
  };

  /** Routes a message to its dataset's actor, activating it on the first one. */
  function deliver(state: HostState, name: string, msg: EntityMsg, ctx: ActorContext<DatasetMsg>) {
    let entity = state.entities.get(name);
    if (!entity) {
      entity = { stash: [], landed: null, busy: 1 };
      state.entities.set(name, entity);
      stats.active++;
      stats.activations++;
      ctx.pipe(
        options.sources.fileops.filesOf({
          dataset: name,
          kind: "copy",
          offset: 0,
          limit: DATASET_FILE_LIMIT,
        }),
        (files) => ({ type: "loaded", dataset: name, files }),
        (e) => ({ type: "loaded", dataset: name, files: null, error: errorText(e) }),
      );
    }
    state.wheel.schedule(name, ctx.clock.now() + state.idleMs);
    if (entity.stash !== null) entity.stash.push(msg);
    else handle(state, name, entity, msg, ctx);
  }

  function handle(
    state: HostState,
    name: string,
    entity: Entity,
    msg: EntityMsg,
    ctx: ActorContext<DatasetMsg>,
  ) {
    switch (msg.type) {
      case "touch":
        return;
      case "status":
        readDatasetWork(options.sources, name).then(
          (work) => msg.replyTo.tell(work),
          (e) => {
            ctx.log.warn("Dataset {dataset}: status not read: {error}", { dataset: name, error: String(e) });
            msg.replyTo.tell({ error: String(e?.message ?? e) });
          },
        );
        return;
      case "file_done": {
        const f = msg.file;
        if (f.kind === "deletion") {
          // Other deletions of the block may have been subscribed since activation: ask the store.
          entity.busy++;
          ctx.pipe(
            options.sources.fileops.filesOf({
              dataset: name,
              site: f.site,
              kind: "deletion",
              offset: 0,
              limit: DATASET_FILE_LIMIT,
            }),
            (files) => ({
              type: "deletions_checked",
              dataset: name,
              site: f.site,
              block: f.block,
              open: files.some((o) => o.block === f.block && o.status !== "done" && o.status !== "cancelled"),
            }),
            // unknown: leave it to the updater
            () => ({ type: "deletions_checked", dataset: name, site: f.site, block: f.block, open: true }),
          );
          return;
        }
        addLanded(entity, f);
        const decision = completions(options.snapshot(), name, entity.landed!);
        for (const key of decision.settled) entity.landed!.delete(key);
        if (entity.landed!.size === 0) entity.landed = null;
        if (decision.commands.length > 0) commit(state, name, decision.commands, ctx);
        return;
      }
    }
  }

  function commit(
    state: HostState,
    name: string,
    commands: InventoryCommand[],
    ctx: ActorContext<DatasetMsg>,
  ) {
    const entity = state.entities.get(name);
    if (entity) entity.busy++;
    ctx.pipe(
      options.submit(commands),
      (result) => ({ type: "committed", dataset: name, result }),
      (e) => ({ type: "committed", dataset: name, result: { ok: false, error: errorText(e) } }),
    );
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function addLanded(entity: Entity, f: Subscription): void {
  entity.landed ??= new Map();
  const key = landedKey(f.site, f.block);
  let l = entity.landed.get(key);
  if (!l) entity.landed.set(key, l = { site: f.site, block: f.block, lfns: new Set() });
  l.lfns.add(f.lfn);
}
