import { getLogger } from "@logtape/logtape";
import { type Clock, SystemClock } from "../../actors/runtime/clock.ts";
import { nanoid } from "nanoid";
import type { Hono } from "hono";
import type { BulkTransaction, Database } from "../../adapters/db/database.ts";
import { type ClusterNodeRow, type LeaseRow, SqlClusterStore } from "../../adapters/db/cluster_store.ts";
import { AdvisoryLeaseSession } from "../../adapters/db/cluster_lease_session.ts";
import { JOURNAL_CHANNEL } from "../../adapters/db/inventory_store_port.ts";
import type { JournalFollowerOptions } from "../../actors/inventory/journal_follower.ts";
import type { InventoryAccess } from "../../registry/http/inventory_access.ts";
import type { AppEnv } from "../../registry/http/context.ts";
import { clusterRoleOf, type NodeView, nodeViews } from "./cluster_view.ts";

/** What a node runs in each role: a whole Dynamo (writer and agents, or follower). */
export interface ClusterService {
  readonly app: Hono<AppEnv>;
  readonly port: InventoryAccess;
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** How the node builds its service for a role (createDynamo over the node's database). */
export type CreateService = (role: {
  /** Names the service's file workers: unique per node and service, so no service takes another's claims. */
  nodeName: string;
  follower?: Pick<JournalFollowerOptions, "listen" | "pollMs">;
  inventoryFence?: (tx: BulkTransaction) => Promise<void>;
}) => Promise<ClusterService>;

export interface ClusterNodeOptions {
  /** The node's pool; both roles' services use it. */
  db: Database;
  /** The database URL and schema, for the lease's own session. */
  url: string;
  schema?: string;
  /** Where this node serves HTTP, as the other nodes reach it (writes are forwarded there). */
  advertiseUrl: string;
  create: CreateService;
  version: string;
  /** The service's clock (default: the wall clock); heartbeats, lease checks and key ages use it. */
  clock?: Clock;
  /** Lease attempts (followers) and checks (the leader) (default 250 ms). */
  pollMs?: number;
  /** Node row heartbeats (default 1 s). */
  heartbeatMs?: number;
  /** Silence after which PostgreSQL drops the lease session (default 3 s). */
  leaseIdleTimeoutMs?: number;
  /** Called each time this node has become the leader and its writer is ready. */
  onLeader?: (service: ClusterService) => Promise<void>;
}

export type NodeRole = "starting" | "follower" | "promoting" | "leader" | "stopped";

const DAY_MS = 86_400_000;

/**
 * One `start` process of a cluster on a shared PostgreSQL (docs/cluster.md).
 * It registers a node row and beats; it holds the writer lease or tries to
 * take it. The leader runs the whole service with a fenced writer; a follower
 * runs it over a journal-following inventory. Changing role builds the new
 * service, swaps it in once ready (the old one serves meanwhile) and closes
 * the old one.
 */
export class ClusterNode {
  readonly id = nanoid();
  readonly store: SqlClusterStore;
  #options: ClusterNodeOptions;
  readonly clock: Clock;
  #lease: AdvisoryLeaseSession;
  #role: NodeRole = "starting";
  #current: ClusterService | null = null;
  #generation = 0;
  #leaseChanges = 0;
  #journalHead = 0;
  #lastBeat = 0;
  #lastPurge = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #tick: Promise<void> = Promise.resolve();
  #log = getLogger(["dynamo", "cluster"]);

  constructor(options: ClusterNodeOptions) {
    this.#options = options;
    this.clock = options.clock ?? new SystemClock();
    this.store = new SqlClusterStore(options.db);
    this.#lease = this.#openLease();
  }

  get role(): NodeRole {
    return this.#role;
  }

  /** The service answering requests now (null while the first one loads). */
  get current(): ClusterService | null {
    return this.#current;
  }

  /** The fencing generation this node writes under (0 if it never led). */
  get generation(): number {
    return this.#generation;
  }

  get leaseChanges(): number {
    return this.#leaseChanges;
  }

  /** Journal entries committed that this node has not applied yet (as of its last beat). */
  get lag(): number {
    const applied = this.appliedSeq();
    return Math.max(0, this.#journalHead - applied);
  }

  appliedSeq(): number {
    return this.#current?.port.isReady() ? this.#current.port.snapshot().generation : 0;
  }

  #services = 0;

  #serviceName(): string {
    return `${Deno.hostname()}:${this.id}:${++this.#services}`;
  }

  #now(): number {
    return this.clock.now();
  }

  #openLease(): AdvisoryLeaseSession {
    return AdvisoryLeaseSession.open({
      url: this.#options.url,
      ...(this.#options.schema ? { schema: this.#options.schema } : {}),
      idleTimeoutMs: this.#options.leaseIdleTimeoutMs ?? 3000,
    });
  }

  /** Registers, takes the lease if it is free (no follower load first), starts the service. */
  async start(): Promise<void> {
    const now = this.#now();
    await this.store.register({
      id: this.id,
      host: Deno.hostname(),
      pid: Deno.pid,
      version: this.#options.version,
      url: this.#options.advertiseUrl,
      role: "starting",
      startedMs: now,
      heartbeatMs: now,
    });
    this.#log.info("Cluster node {id} registered ({url})", { id: this.id, url: this.#options.advertiseUrl });
    if (await this.#lease.tryAcquire().catch(() => false)) await this.#promote();
    else await this.#follow();
    this.#schedule();
  }

  #setRole(role: NodeRole): void {
    this.#role = role;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#step().catch((e) =>
        this.#log.warn("Cluster step failed: {error}", { error: String(e) })
      )
        .finally(() => this.#schedule());
    }, this.#options.pollMs ?? 250);
  }

  async #step(): Promise<void> {
    if (this.#role === "follower") {
      if (await this.#lease.tryAcquire().catch(() => false)) await this.#promote();
    } else if (this.#role === "leader") {
      if (!(await this.#lease.stillHeld())) await this.#stepDown();
    } else if (this.#role === "promoting") {
      // Steps are sequential: still "promoting" here means the last change of role failed (the
      // database was unreachable); the old service serves reads meanwhile. Try to follow again.
      await this.#follow();
    }
    const now = this.#now();
    if (now - this.#lastBeat >= (this.#options.heartbeatMs ?? 1000)) {
      this.#lastBeat = now;
      await this.#beat(now);
    }
  }

  async #beat(now: number): Promise<void> {
    const [row] = await this.#options.db.queryArrays("SELECT coalesce(max(seq), 0) FROM inventory_journal");
    this.#journalHead = Number(row?.[0] ?? 0);
    await this.store.heartbeat(this.id, {
      role: this.#role === "promoting" ? "follower" : this.#role === "leader" ? "leader" : "follower",
      journalSeq: this.appliedSeq(),
      leaseChanges: this.#leaseChanges,
      url: this.#options.advertiseUrl,
    }, now);
    if (this.#role === "leader" && now - this.#lastPurge > 60_000) {
      this.#lastPurge = now;
      await this.store.purgeKeys(now - DAY_MS);
      await this.store.forgetNodes(now - DAY_MS); // rows of nodes gone for a day (each start is a new node)
    }
  }

  /** Holds the advisory lock: fence out the old leader, then load (replaying all it committed). */
  async #promote(): Promise<void> {
    this.#setRole("promoting");
    let leader: ClusterService | null = null;
    // Loading may take longer than the lease session may stay silent: keep speaking on it meanwhile.
    const keepAlive = setInterval(() => this.#lease.stillHeld(), this.#options.pollMs ?? 250);
    try {
      this.#generation = await this.store.takeLease(this.id, this.#now());
      this.#leaseChanges += 1;
      this.#log.info("Node {id} took the writer lease (fencing generation {generation})", {
        id: this.id,
        generation: this.#generation,
      });
      const fence = SqlClusterStore.fence(() => this.#generation);
      leader = await this.#options.create({ nodeName: this.#serviceName(), inventoryFence: fence });
      await leader.ready;
      if (!(await this.#lease.stillHeld())) throw new Error("the lease was lost while loading");
    } catch (e) {
      this.#log.error("Could not take over as leader: {error}", { error: String(e) });
      await leader?.close().catch(() => {});
      await this.#lease.close();
      this.#lease = this.#openLease();
      if (!this.#current) await this.#follow();
      else this.#setRole("follower");
      return;
    } finally {
      clearInterval(keepAlive);
    }
    await this.#swap(leader, "leader");
    await this.#options.onLeader?.(leader);
  }

  async #follow(): Promise<void> {
    const db = this.#options.db;
    const follower = await this.#options.create({
      nodeName: this.#serviceName(),
      follower: {
        listen: (onCommit) => db.listen(JOURNAL_CHANNEL, () => onCommit()),
        pollMs: 1000,
      },
    });
    await follower.ready;
    await this.#swap(follower, "follower");
  }

  /** The lease is gone (session dropped or timed out): stop writing, follow. */
  async #stepDown(): Promise<void> {
    this.#leaseChanges += 1;
    this.#log.warn("Node {id} lost the writer lease; following", { id: this.id });
    this.#setRole("promoting"); // neither writes nor forwards until the follower is up
    await this.#lease.close();
    this.#lease = this.#openLease();
    await this.#follow();
  }

  async #swap(next: ClusterService, role: NodeRole): Promise<void> {
    const old = this.#current;
    this.#current = next;
    this.#setRole(role);
    this.#lastBeat = this.#now();
    await this.#beat(this.#lastBeat).catch(() => {});
    if (old) await old.close().catch((e) => this.#log.warn("Closing the old service: {e}", { e: String(e) }));
  }

  /** Asks the lease session whether this node still holds the lock (false also when it never did). */
  async confirmLeadership(): Promise<boolean> {
    return this.#role === "leader" && await this.#lease.stillHeld();
  }

  /** The leader's address as its node row advertises it (null while there is none). */
  async leaderUrl(): Promise<string | null> {
    // Many forwarded writes ask at once: one look at the database serves them for a moment.
    const now = this.#now();
    if (this.#leaderLook && now - this.#leaderLook.atMs < 100) return await this.#leaderLook.url;
    const url = this.#lookUpLeader();
    this.#leaderLook = { atMs: now, url };
    url.catch(() => this.#leaderLook = null);
    return await url;
  }

  #leaderLook: { atMs: number; url: Promise<string | null> } | null = null;

  async #lookUpLeader(): Promise<string | null> {
    const lease = await this.store.lease();
    if (!lease.holder || lease.holder === this.id) return null;
    const nodes = await this.store.nodes();
    const holder = nodes.find((n) => n.id === lease.holder);
    const stale = 3 * (this.#options.heartbeatMs ?? 1000) + (this.#options.leaseIdleTimeoutMs ?? 3000);
    if (!holder || holder.role === "stopped" || this.#now() - holder.heartbeatMs > stale) return null;
    return holder.url;
  }

  async status(): Promise<{ self: string; lease: LeaseRow; journalHead: number; nodes: NodeView[] }> {
    const [lease, nodes, head] = await Promise.all([
      this.store.lease(),
      this.store.nodes(),
      this.#options.db.queryArrays("SELECT coalesce(max(seq), 0) FROM inventory_journal"),
    ]);
    const journalHead = Number(head[0]?.[0] ?? 0);
    return {
      self: this.id,
      lease,
      journalHead,
      nodes: nodeViews(nodes, {
        nowMs: this.#now(),
        journalHead,
        leaseHolder: lease.holder,
        staleMs: 3 * (this.#options.heartbeatMs ?? 1000),
      }),
    };
  }

  /** Prometheus lines for /metrics. */
  metricsText(): string {
    const role = clusterRoleOf(this.#role);
    return [
      "# HELP dynamo_cluster_role This node's role in the cluster (1 for the current one).",
      "# TYPE dynamo_cluster_role gauge",
      ...(["leader", "follower", "starting"] as const).map((r) =>
        `dynamo_cluster_role{role="${r}"} ${r === role ? 1 : 0}`
      ),
      "# HELP dynamo_cluster_lag_entries Committed journal entries this node has not applied (last beat).",
      "# TYPE dynamo_cluster_lag_entries gauge",
      `dynamo_cluster_lag_entries ${this.lag}`,
      "# HELP dynamo_cluster_lease_changes_total Times this node took or lost the writer lease.",
      "# TYPE dynamo_cluster_lease_changes_total counter",
      `dynamo_cluster_lease_changes_total ${this.#leaseChanges}`,
      "# HELP dynamo_cluster_fencing_generation The fencing generation this node last wrote under.",
      "# TYPE dynamo_cluster_fencing_generation gauge",
      `dynamo_cluster_fencing_generation ${this.#generation}`,
      "",
    ].join("\n");
  }

  /** Stops beating and serving; a leader releases the lease for the next node. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick.catch(() => {});
    const wasLeader = this.#role === "leader";
    this.#setRole("stopped");
    await this.#current?.close().catch(() => {});
    this.#current = null;
    if (wasLeader) await this.store.releaseLease(this.id).catch(() => {});
    await this.#lease.close();
    await this.store.heartbeat(this.id, {
      role: "stopped",
      journalSeq: 0,
      leaseChanges: this.#leaseChanges,
      url: this.#options.advertiseUrl,
    }, this.#now()).catch(() => {});
  }
}

export type { ClusterNodeRow };
