/**
 * Our strategy, run by the same code the service runs: the inventory reducer
 * (in memory), the partitions, the Dealer cycle with its plugins and the copy
 * request rules, Detox with its producers, on the scheduler's cadence (every
 * four hours: request tracking, Dealer, Detox, as examples/demo/demo.seq).
 * What the service reads from its tables (job demand, accesses, requests) is
 * kept here in memory; copies complete after the shared link delay, and
 * deletions at once.
 */
import { SeededRng } from "../actors/runtime/clock.ts";
import { dealerCycle } from "../policies/dealer/dealer_cycle.ts";
import type { DealerConfig } from "../policies/dealer/dealer_config.ts";
import type { DetoxProtection } from "../policies/dealer/plugins/balancer.ts";
import { deletionPlan } from "../policies/detox/deletion_plan.ts";
import { runDetox } from "../policies/detox/detox_engine.ts";
import { parseDetoxPolicy } from "../policies/detox/detox_policy.ts";
import { PartitionImage } from "../policies/detox/partition_image.ts";
import { roomForWaiting, waitingCopies } from "../policies/detox/room_for_requests.ts";
import { parsePartitions } from "../policies/partitions.ts";
import { produceAttributes } from "../policies/producers/attributes.ts";
import {
  emptyState,
  type InventoryCommand,
  type InventoryState,
  parseCommand,
  PartitionTable,
  reduceBatch,
  Snapshot,
} from "../registry/inventory/mod.ts";
import { type CopyRequest, trackCopyRequest } from "../registry/requests/copy_request.ts";
import type { JobRecord } from "../registry/requests/job_record.ts";
import { AccessHistory } from "./access_history.ts";
import { SimFiles } from "./memory_files.ts";
import { type Counters, emptyCounters, type Links, type Strategy } from "./strategy.ts";
import { HOUR, producedAt, productionSite, type SimDataset, siteUp, type Trace } from "./trace.ts";

export interface OursConfig {
  readonly dealer: DealerConfig;
  readonly detoxPolicy: string;
  readonly partitions: string;
  /** Hours between scheduler passes. */
  readonly cycleHours: number;
  /** Detox makes room for copy requests that wait, up to this fraction of a site's quota (0: off; docs/detox.md). */
  readonly roomForRequests?: number;
}

const START = Math.floor(Date.UTC(2027, 0, 1) / 1000);
const DEMAND_DAYS = 30;

export class Ours implements Strategy {
  readonly name = "ours";
  readonly counters: Counters = emptyCounters();
  /** Bytes copied per Dealer plugin (the one that won each copy). */
  readonly copiedBy: Record<string, number> = {};
  #state: InventoryState;
  readonly #files = new SimFiles();
  #snapshot: Snapshot | null = null;
  readonly #produced: Map<number, SimDataset[]>;
  #requests: CopyRequest[] = [];
  #nextRequest = 1;
  #jobs: JobRecord[] = [];
  readonly #accesses = new AccessHistory();
  #detox: DetoxProtection | null = null;
  /** Copies in flight: completion hour → commands. */
  #arrivals: { at: number; commands: InventoryCommand[] }[] = [];
  #hour = -1;
  #cycle = 0;

  constructor(readonly trace: Trace, readonly links: Links, readonly config: OursConfig) {
    this.#state = emptyState(new PartitionTable(parsePartitions(config.partitions)));
    this.#apply([
      ...trace.sites.map((s) =>
        cmd({ op: "site.upsert", name: s.name, storage_type: "disk", status: "ready" })
      ),
      cmd({ op: "site.upsert", name: trace.tape, storage_type: "mss", status: "ready" }),
      cmd({ op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" }),
      cmd({ op: "group.upsert", name: "DataOps", olevel: "Block" }),
      ...trace.sites.map((s) =>
        cmd({ op: "quota.set", site: s.name, partition: "AnalysisOps", quota: s.quota })
      ),
      cmd({ op: "quota.set", site: trace.tape, partition: "Tape", quota: 1e18 }),
    ]);
    this.#produced = producedAt(trace);
    const history = trace.datasets.filter((d) => d.hour < 0);
    for (let i = 0; i < history.length; i += 200) {
      this.#apply(history.slice(i, i + 200).flatMap((d) => this.#production(d, d.origin)));
    }
  }

  beginHour(hour: number): void {
    this.#hour = hour;
    const now = START + hour * HOUR;
    const changes: InventoryCommand[] = [];
    for (const s of [...this.trace.sites.map((x) => x.name)]) {
      if (hour === this.trace.morgue.hour && s === this.trace.morgue.site) {
        changes.push(cmd({ op: "site.upsert", name: s, status: "morgue" }));
      } else if (s === this.trace.outage.site && hour === this.trace.outage.from) {
        changes.push(cmd({ op: "site.upsert", name: s, status: "waitroom" }));
      } else if (s === this.trace.outage.site && hour === this.trace.outage.to) {
        changes.push(cmd({ op: "site.upsert", name: s, status: "ready" }));
      }
    }
    for (const d of this.#produced.get(hour) ?? []) {
      const site = productionSite(this.trace, d, hour);
      changes.push(...this.#production(d, site));
    }
    const due = this.#arrivals.filter((a) => a.at <= hour);
    this.#arrivals = this.#arrivals.filter((a) => a.at > hour);
    for (const a of due) changes.push(...a.commands);
    if (changes.length) this.#apply(changes, now);
    if (hour % this.config.cycleHours === 0) this.#cycle_(now);
  }

  onDisk(dataset: number, hour: number): boolean {
    return this.#diskSite(dataset, hour) !== null;
  }

  accessed(dataset: number, hour: number): void {
    const name = this.trace.datasets[dataset]!.name;
    const site = this.#diskSite(dataset, hour)!;
    this.#accesses.add(name, site, START + Math.floor(hour / 24) * 86400);
    this.#demand(name, hour);
  }

  missed(dataset: number, hour: number): void {
    const name = this.trace.datasets[dataset]!.name;
    this.#demand(name, hour);
    const open = this.#requests.some((r) => r.items.includes(name));
    if (open) return;
    const now = START + hour * HOUR;
    this.#requests.push({
      id: this.#nextRequest++,
      user: "sim",
      group: null,
      n: 1,
      items: [name],
      sites: [],
      status: "new",
      reason: null,
      createdAt: now,
      updatedAt: now,
      lastRequestAt: now,
      requestCount: 1,
      actions: [],
    });
  }

  used(): Map<string, number> {
    const s = this.#snap();
    const partition = s.partition("AnalysisOps")!;
    return new Map(
      this.trace.sites.map((x) => [x.name, s.sitePartition(s.site(x.name)!.id, partition)!.projected]),
    );
  }

  /** Open copy requests, as the request tracker keeps them. */
  requests(): readonly CopyRequest[] {
    return this.#requests;
  }

  #demand(dataset: string, hour: number): void {
    const queued = START + hour * HOUR;
    const last = this.#jobs.at(-1);
    if (last && last.dataset === dataset && last.queued === queued) {
      this.#jobs[this.#jobs.length - 1] = { ...last, jobs: last.jobs + 1 };
    } else this.#jobs.push({ dataset, queued, jobs: 1 });
  }

  #diskSite(dataset: number, hour: number): string | null {
    const s = this.#snap();
    const d = s.dataset(this.trace.datasets[dataset]!.name);
    if (!d) return null;
    for (const dr of s.replicasOf(d.id)) {
      const site = s.siteById(dr.siteId)!;
      if (site.storageType !== "disk" || !siteUp(this.trace, site.name, hour)) continue;
      if (
        dr.columns.length === d.blockIds.length && dr.columns.allComplete()
      ) {
        return site.name;
      }
    }
    return null;
  }

  /** One scheduler pass: request tracking, Dealer, Detox. */
  #cycle_(now: number): void {
    this.#cycle++;
    let s = this.#snap();
    this.#requests = this.#requests.map((r) => trackCopyRequest(s, r, now)).filter(open);
    // Demand older than DEMAND_DAYS leaves from the front (the records are in time order).
    let old = 0;
    while (old < this.#jobs.length && this.#jobs[old]!.queued < now - DEMAND_DAYS * 86400) old++;
    if (old > 0) this.#jobs = this.#jobs.slice(old);
    const out = dealerCycle({
      snapshot: s,
      config: this.config.dealer,
      rng: new SeededRng(this.#cycle),
      now,
      copyRequests: this.#requests,
      jobs: this.#jobs,
      enforcer: null,
      detox: this.#detox,
      transferOutcomes: new Map(),
    });
    this.#requests = out.copyRequests.filter(open);
    this.#apply(out.plan.commands, now);
    const pluginOf = new Map(out.result.copies.map((c) => [`${c.siteId} ${c.datasetId}`, c.plugin]));
    for (const op of out.plan.operations) {
      const plugin = pluginOf.get(`${op.siteId} ${op.datasetId}`) ?? "?";
      this.copiedBy[plugin] = (this.copiedBy[plugin] ?? 0) + op.bytes;
      const dataset = s.datasetById(op.datasetId)!;
      const site = s.siteById(op.siteId)!.name;
      const at = this.links.schedule(site, op.bytes, this.#hour);
      this.counters.bytesCopied += op.bytes;
      this.#arrivals.push({
        at: Math.ceil(at),
        commands: (op.blockIds ?? dataset.blockIds).map((id) =>
          cmd({
            op: "block_replica.upsert",
            dataset: dataset.name,
            block: s.blockById(id)!.name,
            site,
            files: this.#files.lfnsOfBlock(id),
          })
        ),
      });
    }
    s = this.#snap();
    const policy = parseDetoxPolicy(this.config.detoxPolicy, { file: "Physics.txt", nowMs: now * 1000 });
    const attrs = produceAttributes(s, {
      now,
      accesses: this.#accesses.records(now),
      pendingCopies: this.#requests.filter((r) => r.status === "new").flatMap((r) => r.items),
    });
    const image = PartitionImage.build(s, policy, attrs);
    const room = roomForWaiting(s, image, waitingCopies(this.#requests), this.config.roomForRequests ?? 0);
    for (const [site, bytes] of room) site.reserved = bytes;
    const result = runDetox(image, policy);
    const lines = policy.text.split(/\r?\n/);
    this.#detox = {
      sites: result.sites.map((x) => ({
        siteId: x.siteId,
        quota: x.quota,
        protectedBytes: x.protectedBytes,
      })),
      protectedReplicas: result.decisions.filter((d) => d.decision === "protect").map((d) => ({
        siteId: d.siteId,
        datasetId: d.datasetId,
        size: d.size,
        reason: (lines[d.line - 1] ?? "").trim().replace(/^\S+\s*/, ""),
      })),
    };
    const plan = deletionPlan(s, result);
    this.#apply(plan.commands, now);
    // The file operations remove the files at once; the replicas leave the inventory.
    const gone: InventoryCommand[] = [];
    for (const op of plan.operations) {
      const dataset = s.datasetById(op.datasetId)!;
      const site = s.siteById(op.siteId)!.name;
      this.counters.bytesDeleted += op.size;
      if (op.blockIds === null) gone.push(cmd({ op: "dataset_replica.delete", dataset: dataset.name, site }));
      else {
        for (const id of op.blockIds) {
          gone.push(
            cmd({ op: "block_replica.delete", dataset: dataset.name, block: s.blockById(id)!.name, site }),
          );
        }
      }
    }
    this.#apply(gone, now);
    const after = this.#snap();
    for (const op of plan.operations) {
      const d = after.datasetById(op.datasetId)!;
      const complete = after.replicasOf(d.id).some((dr) =>
        dr.columns.length === d.blockIds.length && dr.columns.allComplete()
      );
      if (!complete) this.counters.lastCopiesLost++;
    }
  }

  #production(d: SimDataset, site: string): InventoryCommand[] {
    const lastUpdate = START + d.hour * HOUR;
    const lfn = `/store/sim/${d.index}/f1.root`;
    return [
      cmd({ op: "dataset.upsert", name: d.name, status: "valid", last_update: lastUpdate }),
      cmd({ op: "block.upsert", dataset: d.name, block: "b1" }),
      cmd({ op: "files.add", dataset: d.name, block: "b1", files: [{ lfn, size: d.bytes }] }),
      cmd({ op: "dataset_replica.upsert", dataset: d.name, site, group: "AnalysisOps" }),
      cmd({ op: "block_replica.upsert", dataset: d.name, block: "b1", site }),
      ...(d.onTape
        ? [
          cmd({ op: "dataset_replica.upsert", dataset: d.name, site: this.trace.tape, group: "DataOps" }),
          cmd({ op: "block_replica.upsert", dataset: d.name, block: "b1", site: this.trace.tape }),
        ]
        : []),
    ];
  }

  #snap(): Snapshot {
    return this.#snapshot ??= new Snapshot(this.#state);
  }

  #apply(commands: readonly InventoryCommand[], now = START): void {
    if (commands.length === 0) return;
    const result = reduceBatch(
      this.#state,
      [{ commands }],
      this.#files.catalog({ lfns: new Set(), blockIds: new Set() } as never),
      now * 1000,
      this.#state.generation + 1,
    );
    const bad = result.outcomes.flat().find((o) => o.status !== "applied");
    if (bad) throw new Error(`simulate: the reducer refused a command: ${JSON.stringify(bad)}`);
    this.#files.apply(result.changes);
    this.#state = result.state;
    this.#snapshot = null;
  }
}

function open(r: CopyRequest): boolean {
  return r.status === "new" || r.status === "activated";
}

function cmd(raw: Record<string, unknown>): InventoryCommand {
  return parseCommand(raw) as InventoryCommand;
}
