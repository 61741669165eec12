import type { InjectionQueue } from "../adapters/db/injection_queue_port.ts";
import type { InventoryStore } from "../adapters/db/inventory_store_port.ts";
import type { PartitionDefinition } from "../registry/inventory/mod.ts";
import { injectionDrainer } from "./inventory/injection_drainer.ts";
import {
  detoxAgent,
  type DetoxAgentOptions,
  type DetoxMsg,
  type EarlyCycles,
  earlyDetoxCycles,
  ROOM_CHECK_MS,
  scheduledDetoxCycles,
} from "./agents/detox.ts";
import {
  dealerAgent,
  type DealerAgentOptions,
  type DealerMsg,
  scheduledDealerCycle,
} from "./agents/dealer.ts";
import { CycleLock, cycleTicker, TICK_MAILBOX, type TickMsg } from "./agents/cycle_ticker.ts";
import { requestTracker, type RequestTrackerOptions, type TrackerMsg } from "./agents/request_tracker.ts";
import { fileOpsAgent, type FileOpsAgentOptions, type FileOpsMsg } from "./transfer/fileops_agent.ts";
import { inventoryActor, type InventoryMsg } from "./inventory/inventory_actor.ts";
import { InventoryGateway } from "./inventory/inventory_gateway.ts";
import { journalFollower, type JournalFollowerOptions } from "./inventory/journal_follower.ts";
import type { InventoryPublication } from "./inventory/publication.ts";
import type { ActorRef, ActorSystem, ChildSpec } from "./runtime/mod.ts";
import { scheduler, type SchedulerMsg, type SchedulerOptions } from "./agents/scheduler.ts";
import { resolveApplications } from "./agents/builtin_apps.ts";
import { datasetActors, type DatasetActorsOptions, type DatasetMsg } from "./dataset/dataset_actors.ts";
import { replicaActor, type ReplicaMsg, ReplicaSlot } from "./inventory/replica_host.ts";
import { replicaDetoxDecider } from "./agents/detox_on_replica.ts";
import { routedSiteRef, type SitesMsg, sitesSupervisor } from "./site/sites_supervisor.ts";
import { DEFAULT_FILEOPS_LIMITS } from "./transfer/fileops_engine.ts";
import { trackerPass } from "./agents/request_tracker.ts";
import { replicaDealerDecider } from "./agents/dealer_on_replica.ts";
import {
  consistencyAgent,
  type ConsistencyAgentOptions,
  type ConsistencyMsg,
} from "./agents/consistency_agent.ts";

export interface TreeDependencies {
  store: InventoryStore;
  injections: InjectionQueue;
  partitions: readonly PartitionDefinition[];
  publication: InventoryPublication;
  onLoadProgress?: (table: string, rows: number) => void;
  /** Detox, when policies are configured. */
  detox?: Omit<DetoxAgentOptions, "gateway">;
  /** The Dealer, when configured. */
  dealer?: Omit<DealerAgentOptions, "gateway">;
  /** The request tracker (always: requests exist with or without a Dealer). */
  tracker?: Omit<RequestTrackerOptions, "gateway">;
  /** File operations (transfers, deletions, the updater), when sites have storage. */
  fileops?: Omit<FileOpsAgentOptions, "snapshot" | "submit">;
  /** Dataset actors (/dynamo/datasets), told of every file done by the file workers. */
  datasets?: Omit<DatasetActorsOptions, "snapshot" | "submit" | "tracker">;
  /** The scheduler, when a sequence file is configured: it runs the agents above as its applications. */
  scheduler?: Omit<SchedulerOptions, "resolve"> & { askTimeoutMs?: number };
  /** Site consistency checks, when configured. */
  consistency?: Omit<ConsistencyAgentOptions, "ready">;
  /** A reader replica in a Worker, on which Detox cycles are decided (default: when Detox is configured). */
  readers?: boolean;
  /**
   * A follower node of a cluster (docs/cluster.md): /inventory follows the journal instead of
   * writing it, and the injection drainer does not run (the leader's does).
   */
  follower?: Pick<JournalFollowerOptions, "listen" | "pollMs">;
}

export interface ApplicationTree {
  gateway: InventoryGateway;
  writer: ActorRef<InventoryMsg>;
  detox: ActorRef<DetoxMsg> | null;
  dealer: ActorRef<DealerMsg> | null;
  tracker: ActorRef<TrackerMsg> | null;
  fileops: ActorRef<FileOpsMsg> | null;
  scheduler: ActorRef<SchedulerMsg> | null;
  consistency: ActorRef<ConsistencyMsg> | null;
  datasets: ActorRef<DatasetMsg> | null;
  /** The reader replica, when one runs (its lag is a metric). */
  replicas: ReplicaSlot | null;
  nudgeInjections(): void;
  /** A request arrived: the tracker makes a pass now rather than at its next tick. */
  nudgeTracker(): void;
}

/**
 * The application supervision tree (docs/architecture.md):
 *
 *   /dynamo                 one_for_one, 5 restarts in 60 s, then the process exits non-zero
 *     /inventory            permanent; reloads from the database on restart; backoff 1 s → 30 s
 *     /injections           permanent; stateless, re-reads the queue
 *     /replica              permanent; a reader replica in a Worker, built from the writer's published
 *                           snapshot as it writes on, then following the committed journal; Detox decides there.
 *                           A failed Worker (or a diverged journal) restarts it with a fresh replica
 *     /detox                permanent; cycles on request, one at a time
 *     /detox_ticks          permanent; the scheduled Detox cycles: a mailbox of one tick, drop-oldest,
 *                           so ticks do not pile up behind a long cycle; shares /detox's cycle lock
 *     /detox_room           permanent, with room for requests on: cycles run early for copy requests
 *                           waiting for room (docs/detox.md), then a Dealer tick; likewise
 *     /dealer, /dealer_ticks  likewise for the Dealer
 *     /requests             permanent; follows copy requests, carries out deletion requests
 *     /requests_ticks       permanent; the tracker's scheduled passes and the nudges (a request
 *                           arrived, a dataset actor committed): a mailbox of one tick, drop-oldest,
 *                           so many datasets completing at once cost one pass; shares /requests' lock
 *     /datasets             permanent; the dataset actors (/datasets/<name>, virtual: activated by a
 *                           message, passivated when idle); a new incarnation starts empty and
 *                           rebuilds each dataset's state from the database on its next message
 *     /fileops              permanent; transfers and deletions on the sites, and the updater; a new
 *                           incarnation gives back the tasks the crashed one held and carries on
 *     /scheduler            permanent; runs the sequences of the sequence file with the agents above
 *                           as its applications; a new incarnation marks the runs it had going as
 *                           interrupted and resumes each sequence at its saved step
 *     /consistency          permanent; site consistency checks on a schedule and on request; a new
 *                           incarnation starts over (an interrupted check recorded nothing)
 *
 *   /sites                  one_for_one; started before /dynamo (so it stops after the file workers)
 *     /sites/NAME           permanent; one per site of the inventory (sites a commit adds get one):
 *                           status and ledger occupancy read from the published snapshot, admission
 *                           slots of transfers and deletions; told of every committed change of its
 *                           site by the /sites supervisor, which follows the publication
 *
 * The writer restarts with backoff because its usual cause of failure is the
 * database being unreachable; the drainer depends on the writer only through
 * asks, so one_for_one is enough.
 */
export function startApplicationTree(system: ActorSystem, deps: TreeDependencies): ApplicationTree {
  const writerSpec: ChildSpec<InventoryMsg> = {
    id: "inventory",
    restart: "permanent",
    shutdownMs: 30_000,
    behavior: () =>
      deps.follower
        ? journalFollower({
          ...deps.follower,
          store: deps.store,
          partitions: deps.partitions,
          publication: deps.publication,
          ...(deps.onLoadProgress ? { onLoadProgress: deps.onLoadProgress } : {}),
        }) as never
        : inventoryActor({
          store: deps.store,
          injections: deps.injections,
          partitions: deps.partitions,
          publication: deps.publication,
          ...(deps.onLoadProgress ? { onLoadProgress: deps.onLoadProgress } : {}),
        }),
  };
  let gateway!: InventoryGateway;
  // Partitions are parsed again in the Worker, so each needs its definition text.
  // A cluster follower runs no agent, so no replica either.
  const readers = !deps.follower && (deps.readers ??
    ((deps.detox !== undefined || deps.dealer !== undefined) &&
      deps.partitions.every((p) => p.text !== undefined)));
  const slot = readers ? new ReplicaSlot() : null;
  const siteParallelism = deps.fileops?.limits?.siteParallelism ?? DEFAULT_FILEOPS_LIMITS.siteParallelism;
  system.spawn<SitesMsg>({
    id: "sites",
    restart: "permanent",
    behavior: () => sitesSupervisor({ publication: deps.publication, parallelism: siteParallelism }),
  });
  system.spawn<never>({
    id: "dynamo",
    restart: "permanent",
    behavior: {
      supervision: {
        strategy: "one_for_one",
        intensity: { maxRestarts: 5, withinMs: 60_000 },
        backoff: { initialMs: 1_000, maxMs: 30_000 },
      },
      init(ctx) {
        const writer = ctx.spawn(writerSpec);
        gateway = new InventoryGateway(system, writer, deps.publication);
        if (!deps.follower) {
          ctx.spawn({
            id: "injections",
            restart: "permanent",
            behavior: () => injectionDrainer({ queue: deps.injections, gateway }),
          });
        }
        if (slot) {
          ctx.spawn<ReplicaMsg>({
            id: "replica",
            restart: "permanent",
            behavior: () =>
              replicaActor({ publication: deps.publication, partitions: deps.partitions, slot }),
          });
        }
        if (deps.detox) {
          const detox = deps.detox;
          const dealerRef = deps.dealer ? system.refFor<DealerMsg>("/dynamo/dealer") : null;
          const early: EarlyCycles = { lastMs: null };
          const decider = slot
            ? replicaDetoxDecider(slot, () => gateway, detox.enforcer ?? null, system.clock)
            : undefined;
          const cycles = new CycleLock();
          const agent = () => ({ ...detox, gateway, cycles, ...(decider ? { decider } : {}) });
          // The agent's mailbox keeps requests; scheduled cycles run from a ticker with a mailbox of one.
          ctx.spawn<DetoxMsg>({
            id: "detox",
            restart: "permanent",
            behavior: () => detoxAgent({ ...agent(), intervalMs: 0 }),
          });
          if (detox.intervalMs > 0) {
            ctx.spawn<TickMsg>({
              id: "detox_ticks",
              restart: "permanent",
              mailbox: TICK_MAILBOX,
              behavior: () =>
                cycleTicker({
                  intervalMs: detox.intervalMs,
                  lock: cycles,
                  cycle: async (log) => {
                    await scheduledDetoxCycles(agent(), log, () => system.clock.now());
                  },
                }),
            });
          }
          const room = detox.roomForRequests;
          if (room && room.maxFraction > 0) {
            // Early cycles for copies that wait for room; room made, the Dealer runs now to place them.
            ctx.spawn<TickMsg>({
              id: "detox_room",
              restart: "permanent",
              mailbox: TICK_MAILBOX,
              behavior: () =>
                cycleTicker({
                  intervalMs: room.checkMs ?? ROOM_CHECK_MS,
                  lock: cycles,
                  cycle: async (log) => {
                    if (await earlyDetoxCycles(agent(), early, log, () => system.clock.now())) {
                      dealerRef?.tell({ type: "tick" });
                    }
                  },
                }),
            });
          }
        }
        if (deps.dealer) {
          const cycles = new CycleLock();
          // On the reader replica when there is one (enforcer rules travel as their text).
          const onReplica = slot && (!deps.dealer.enforcer || deps.dealer.enforcer.source)
            ? replicaDealerDecider(slot, () => gateway, deps.dealer.enforcer, system.clock)
            : null;
          const dealer = { ...deps.dealer, ...(onReplica ? { decider: onReplica } : {}) };
          ctx.spawn<DealerMsg>({
            id: "dealer",
            restart: "permanent",
            behavior: () => dealerAgent({ ...dealer, gateway, cycles, intervalMs: 0 }),
          });
          if (dealer.intervalMs > 0) {
            ctx.spawn<TickMsg>({
              id: "dealer_ticks",
              restart: "permanent",
              mailbox: TICK_MAILBOX,
              behavior: () =>
                cycleTicker({
                  intervalMs: dealer.intervalMs,
                  lock: cycles,
                  cycle: (log) =>
                    scheduledDealerCycle({ ...dealer, gateway, cycles }, log, () => system.clock.now()),
                }),
            });
          }
        }
        if (deps.tracker) {
          const tracker = deps.tracker;
          const cycles = new CycleLock();
          ctx.spawn<TrackerMsg>({
            id: "requests",
            restart: "permanent",
            behavior: () => requestTracker({ ...tracker, gateway, cycles, intervalMs: 0 }),
          });
          ctx.spawn<TickMsg>({
            id: "requests_ticks",
            restart: "permanent",
            mailbox: TICK_MAILBOX,
            behavior: () =>
              cycleTicker({
                intervalMs: tracker.intervalMs,
                lock: cycles,
                cycle: async (log) => {
                  const summary = await trackerPass({ ...tracker, gateway }, system.clock.now());
                  if (summary.error) log.warn("Request tracking failed: {error}", { error: summary.error });
                },
              }),
          });
        }
        if (deps.datasets) {
          const datasets = deps.datasets;
          ctx.spawn<DatasetMsg>({
            id: "datasets",
            restart: "permanent",
            mailbox: { capacity: 1_000_000 },
            behavior: () =>
              datasetActors({
                ...datasets,
                snapshot: () => gateway.snapshot(),
                submit: async (commands) => {
                  const reply = await gateway.submit({ commands, atomic: false });
                  return reply.ok ? { ok: true } : { ok: false, error: reply.error };
                },
                tracker: () => deps.tracker ? system.refFor<TickMsg>("/dynamo/requests_ticks") : null,
              }),
          });
        }
        if (deps.fileops) {
          const fileops = deps.fileops;
          ctx.spawn<FileOpsMsg>({
            id: "fileops",
            restart: "permanent",
            shutdownMs: 60_000,
            behavior: () =>
              fileOpsAgent({
                ...fileops,
                ...(deps.datasets
                  ? {
                    onFileDone: (file) =>
                      system.refFor<DatasetMsg>("/dynamo/datasets").tell({ type: "file_done", file }),
                  }
                  : {}),
                // Through the /sites supervisor until the site's actor runs: an ask never dead-letters.
                siteRef: (site) => routedSiteRef(system, site),
                snapshot: () => gateway.snapshot(),
                submit: async (commands) => {
                  const reply = await gateway.submit({ commands, atomic: false });
                  if (!reply.ok) throw new Error(`inventory update failed: ${reply.error}`);
                },
              }),
          });
        }
        if (deps.consistency) {
          const consistency = deps.consistency;
          ctx.spawn<ConsistencyMsg>({
            id: "consistency",
            restart: "permanent",
            behavior: () => consistencyAgent({ ...consistency, ready: deps.publication.ready }),
          });
        }
        if (deps.scheduler) {
          const { askTimeoutMs, ...options } = deps.scheduler;
          const resolve = resolveApplications({
            system,
            detox: deps.detox ? system.refFor<DetoxMsg>("/dynamo/detox") : null,
            dealer: deps.dealer ? system.refFor<DealerMsg>("/dynamo/dealer") : null,
            tracker: deps.tracker ? system.refFor<TrackerMsg>("/dynamo/requests") : null,
            fileops: deps.fileops ? system.refFor<FileOpsMsg>("/dynamo/fileops") : null,
            consistency: deps.consistency ? system.refFor<ConsistencyMsg>("/dynamo/consistency") : null,
            ...(askTimeoutMs !== undefined ? { askTimeoutMs } : {}),
          });
          ctx.spawn<SchedulerMsg>({
            id: "scheduler",
            restart: "permanent",
            behavior: () => scheduler({ ...options, resolve, inventoryReady: deps.publication.ready }),
          });
        }
        return null;
      },
      receive: (s) => s,
    },
  });
  const writer = system.refFor<InventoryMsg>("/dynamo/inventory");
  return {
    get gateway() {
      return gateway;
    },
    writer,
    detox: deps.detox ? system.refFor<DetoxMsg>("/dynamo/detox") : null,
    dealer: deps.dealer ? system.refFor<DealerMsg>("/dynamo/dealer") : null,
    tracker: deps.tracker ? system.refFor<TrackerMsg>("/dynamo/requests") : null,
    fileops: deps.fileops ? system.refFor<FileOpsMsg>("/dynamo/fileops") : null,
    scheduler: deps.scheduler ? system.refFor<SchedulerMsg>("/dynamo/scheduler") : null,
    consistency: deps.consistency ? system.refFor<ConsistencyMsg>("/dynamo/consistency") : null,
    datasets: deps.datasets ? system.refFor<DatasetMsg>("/dynamo/datasets") : null,
    replicas: slot,
    nudgeTracker: () => {
      if (deps.tracker) system.refFor<TickMsg>("/dynamo/requests_ticks").tell({ type: "tick" });
    },
    nudgeInjections: () => system.refFor<{ type: "drain" }>("/dynamo/injections").tell({ type: "drain" }),
  };
}
