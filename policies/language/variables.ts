/**
 * Long on purpose (~510 lines): the table of every replica and site variable of the
 * policy language (spec §3.5), one entry each; a table is read as one list.
 */
import { DATASET_STATUSES, SITE_STATUSES, STORAGE_TYPES } from "../../registry/inventory/mod.ts";
import {
  type EvalBlockReplica,
  type EvalReplica,
  type EvalSite,
  isBlockReplica,
  type ReplicaTarget,
  someVisible,
  someVisibleOfBlock,
  visibleCount,
} from "./targets.ts";

export type ValueType = "bool" | "numeric" | "text" | "time";
export type Value = boolean | number | string;

/**
 * A policy variable. Replica variables take a dataset replica or a block
 * replica (navigating up or down as spec §2.2 says: block-replica variables
 * on a dataset replica yield one value per visible block replica, and a
 * predicate is then true if it holds for any of them). Site variables take a
 * site partition.
 */
export interface ReplicaVariable {
  readonly name: string;
  readonly type: ValueType;
  /** Symbols → values for enumerations (`VALID`, `MSS`, `PARTIAL`…). */
  readonly symbols?: Readonly<Record<string, number>>;
  /** Depends only on the block replica, its block, dataset, site and owner: usable in partitions. */
  readonly local: boolean;
  /** The producer attribute it needs (for configuration checks and summaries). */
  readonly attribute?: string;
  get(t: ReplicaTarget): Value | readonly Value[];
  /**
   * Block-replica variables: whether `test` holds for the value of any visible block replica of a
   * dataset replica (what a predicate on `get`'s list means), one block replica at a time. `test`
   * must be pure: it may be asked fewer times than the list is long.
   */
  anyOf?(r: EvalReplica, test: (v: Value) => boolean): boolean;
}

export interface SiteVariable {
  readonly name: string;
  readonly type: ValueType;
  readonly symbols?: Readonly<Record<string, number>>;
  get(s: EvalSite): Value;
}

const enumOf = (values: readonly string[], offset = 1) =>
  Object.freeze(Object.fromEntries(values.map((v, i) => [v.toUpperCase(), i + offset])));

const STATUS = enumOf(DATASET_STATUSES);
const SITE_STATUS = enumOf(SITE_STATUSES);
const STORAGE = enumOf(STORAGE_TYPES);

/** An enumeration's number for a stored (lower-case) value, remembered: no new string per evaluation. */
const codeOf = (table: Readonly<Record<string, number>>) => {
  const known = new Map<string, number>();
  return (value: string): number => {
    let code = known.get(value);
    if (code === undefined) {
      code = table[value.toUpperCase()]!;
      if (code !== undefined) known.set(value, code);
    }
    return code;
  };
};
const statusCode = codeOf(STATUS);
const siteStatusCode = codeOf(SITE_STATUS);
const storageCode = codeOf(STORAGE);
// `PART` is the 2016 spelling of `PARTIAL` (renamed on 2016-08-09); both are accepted.
const ON_TAPE = Object.freeze({ NONE: 0, FULL: 1, PARTIAL: 2, PART: 2 });

const replicaOf = (t: ReplicaTarget): EvalReplica => (isBlockReplica(t) ? t.replica : t);
const datasetOf = (t: ReplicaTarget) => replicaOf(t).dataset;
/**
 * Block-replica scope: one value, or one per visible block replica of a dataset replica; `anyOf`
 * asks them one at a time, stopping at the first that passes (f is pure: the same answer as `get`).
 */
const perBlock = <T extends Value>(f: (b: EvalBlockReplica) => T) => ({
  get: (t: ReplicaTarget): T | readonly T[] => isBlockReplica(t) ? f(t) : t.visible().map(f),
  anyOf: (r: EvalReplica, test: (v: Value) => boolean): boolean => someVisible(r, (b) => test(f(b))),
});

function isComplete(b: EvalBlockReplica): boolean {
  return b.br.fileIds === null;
}

/** Has every block of the dataset, each complete. */
export function isFull(r: EvalReplica): boolean {
  return visibleCount(r) === r.dataset.blockIds.length && !someVisible(r, (b) => !isComplete(b));
}

function owners(r: EvalReplica): Set<number> {
  const groups = new Set<number>();
  someVisible(r, (b) => {
    groups.add(b.groupId);
    return false;
  });
  return groups;
}

function sharesOwner(a: Set<number>, r: EvalReplica): boolean {
  return someVisible(r, (b) => a.has(b.groupId));
}

function onTape(r: EvalReplica): number {
  let state: number = ON_TAPE.NONE;
  for (const other of r.world.replicasOf(r.dataset.id)) {
    if (other.site.storageType !== "mss") continue;
    if (isFull(other)) return ON_TAPE.FULL;
    state = ON_TAPE.PARTIAL;
  }
  return state;
}

/** Whether `test` holds for a visible replica of the block at any replica of its dataset (its own included). */
function someReplicaOfBlock(b: EvalBlockReplica, test: (o: EvalBlockReplica) => boolean): boolean {
  const blockId = b.blockId;
  for (const r of b.replica.world.replicasOf(b.replica.dataset.id)) {
    if (someVisibleOfBlock(r, blockId, test)) return true;
  }
  return false;
}

/**
 * `blockreplica.is_last_transfer_source`: a complete block replica whose block is being transferred
 * elsewhere (an incomplete replica of it) and has no other complete replica on a ready disk. On a
 * dataset replica, `anyOf` first asks whether any other replica of the dataset is incomplete at all:
 * if none is, no block of this one is a transfer's source (each value is false), and the blocks'
 * other replicas need not be looked up one by one (Detox asks this of every replica each cycle).
 */
function lastTransferSourceOfBlock() {
  const of = perBlock((b) => {
    if (!isComplete(b)) return false;
    let transferOngoing = false;
    // The other replicas of the block, stopping at the first complete one on a ready disk.
    const servedElsewhere = someReplicaOfBlock(b, (other) => {
      if (other.replica === b.replica) return false;
      if (isComplete(other)) {
        return other.replica.site.storageType === "disk" && other.replica.site.status === "ready";
      }
      transferOngoing = true;
      return false;
    });
    return !servedElsewhere && transferOngoing;
  });
  return {
    get: of.get,
    anyOf: (r: EvalReplica, test: (v: Value) => boolean): boolean => {
      const transfers = r.world.replicasOf(r.dataset.id).some((o) =>
        o !== r && someVisible(o, (b) => !isComplete(b))
      );
      return transfers ? of.anyOf(r, test) : visibleCount(r) > 0 && test(false);
    },
  };
}

/** `r.visible().reduce(f, initial)`, without views when the replica has a cursor. */
function foldVisible(
  r: EvalReplica,
  initial: number,
  f: (acc: number, b: EvalBlockReplica) => number,
): number {
  let acc = initial;
  someVisible(r, (b) => {
    acc = f(acc, b);
    return false;
  });
  return acc;
}

function release(version: string | null): string {
  if (!version) return "";
  return version.replace(/^[^0-9]*/, "");
}

const vars: ReplicaVariable[] = [
  // ---- dataset scope ----
  { name: "dataset.name", type: "text", local: true, get: (t) => datasetOf(t).name },
  {
    name: "dataset.status",
    type: "numeric",
    symbols: STATUS,
    local: true,
    get: (t) => statusCode(datasetOf(t).status),
  },
  {
    name: "dataset.on_tape",
    type: "numeric",
    symbols: ON_TAPE,
    local: false,
    get: (t) => onTape(replicaOf(t)),
  },
  {
    name: "dataset.tape_copy_requested",
    type: "bool",
    local: false,
    attribute: "tape_copy_requested",
    get: (t) => replicaOf(t).world.attrs.tapeCopyRequested(datasetOf(t).id),
  },
  { name: "dataset.size", type: "numeric", local: true, get: (t) => datasetOf(t).size },
  { name: "dataset.last_update", type: "time", local: true, get: (t) => datasetOf(t).lastUpdate },
  {
    name: "dataset.last_access",
    type: "time",
    local: false,
    attribute: "last_access",
    get: (t) => replicaOf(t).world.attrs.lastAccess(datasetOf(t).id),
  },
  {
    name: "dataset.num_full_disk_copy",
    type: "numeric",
    local: false,
    get: (t) => {
      const r = replicaOf(t);
      let n = 0;
      for (const o of r.world.replicasOf(r.dataset.id)) {
        if (o.site.storageType === "disk" && o.site.status === "ready" && isFull(o)) n++;
      }
      return n;
    },
  },
  {
    name: "dataset.usage_rank",
    type: "numeric",
    local: false,
    attribute: "global_usage_rank",
    get: (t) => replicaOf(t).world.attrs.usageRank(datasetOf(t).id),
  },
  {
    name: "dataset.demand_rank",
    type: "numeric",
    local: false,
    attribute: "global_demand_rank",
    get: (t) => replicaOf(t).world.attrs.demandRank(datasetOf(t).id),
  },
  { name: "dataset.release", type: "text", local: true, get: (t) => release(datasetOf(t).softwareVersion) },
  {
    name: "dataset.is_latest_production_release",
    type: "bool",
    local: false,
    attribute: "latest_production_release",
    get: (t) => replicaOf(t).world.attrs.isLatestProductionRelease(datasetOf(t).id),
  },
  {
    name: "dataset.on_protected_site",
    type: "bool",
    local: false,
    attribute: "on_protected_site",
    get: (t) => replicaOf(t).world.attrs.onProtectedSite(datasetOf(t).id),
  },
  {
    name: "dataset.unknown_in_all_dbs",
    type: "bool",
    local: false,
    attribute: "unknown_in_all_dbs",
    get: (t) => replicaOf(t).world.attrs.unknownInAllDbs(datasetOf(t).id),
  },
  {
    name: "dataset.unhandled_copy_exists",
    type: "bool",
    local: false,
    attribute: "unhandled_copy_exists",
    get: (t) => replicaOf(t).world.attrs.unhandledCopyExists(datasetOf(t).id),
  },
  // ---- dataset replica scope ----
  {
    name: "replica.size",
    type: "numeric",
    local: false,
    get: (t) => foldVisible(replicaOf(t), 0, (s, b) => s + b.br.size),
  },
  {
    name: "replica.incomplete",
    type: "bool",
    local: false,
    get: (t) => someVisible(replicaOf(t), (b) => !isComplete(b)),
  },
  {
    name: "replica.last_block_created",
    type: "time",
    local: false,
    get: (t) => foldVisible(replicaOf(t), 0, (m, b) => Math.max(m, b.br.lastUpdate)),
  },
  {
    name: "replica.first_block_created",
    type: "time",
    local: false,
    get: (t) => foldVisible(replicaOf(t), 0xffffffff, (m, b) => Math.min(m, b.br.lastUpdate)),
  },
  {
    name: "replica.num_access",
    type: "numeric",
    local: false,
    attribute: "num_access",
    get: (t) => replicaOf(t).world.attrs.numAccess(datasetOf(t).id),
  },
  {
    name: "replica.num_full_disk_copy_common_owner",
    type: "numeric",
    local: false,
    get: (t) => {
      const r = replicaOf(t);
      const mine = owners(r);
      return r.world.replicasOf(r.dataset.id).filter((o) =>
        o.site.storageType === "disk" && o.site.status === "ready" && isFull(o) && sharesOwner(mine, o)
      ).length;
    },
  },
  {
    name: "replica.num_full_other_copy_common_owner",
    type: "numeric",
    local: false,
    get: (t) => {
      const r = replicaOf(t);
      const mine = owners(r);
      return r.world.replicasOf(r.dataset.id).filter((o) =>
        o.site.id !== r.site.id && o.site.status === "ready" && isFull(o) && sharesOwner(mine, o)
      ).length;
    },
  },
  {
    name: "replica.enforcer_protected",
    type: "bool",
    local: false,
    attribute: "enforcer_protected_replicas",
    get: (t) => replicaOf(t).world.attrs.enforcerProtected(datasetOf(t).id, replicaOf(t).site.id),
  },
  // ---- block replica scope ----
  {
    name: "blockreplica.is_last_transfer_source",
    type: "bool",
    local: false,
    ...lastTransferSourceOfBlock(),
  },
  { name: "blockreplica.last_update", type: "time", local: true, ...perBlock((b) => b.br.lastUpdate) },
  {
    name: "blockreplica.owner",
    type: "text",
    local: true,
    ...perBlock((b) => b.replica.world.group(b.groupId).name ?? "None"),
  },
  {
    name: "blockreplica.is_locked",
    type: "bool",
    local: false,
    attribute: "locked_blocks",
    ...perBlock((b) => {
      const locked = b.replica.world.attrs.lockedBlocks(b.replica.dataset.id, b.replica.site.id);
      return locked === null || (locked !== undefined && locked.has(b.blockId));
    }),
  },
  {
    name: "blockreplica.num_full_disk_copy",
    type: "numeric",
    local: false,
    ...perBlock((b) => {
      let n = 0;
      someReplicaOfBlock(b, (o) => {
        if (isComplete(o)) n++;
        return false;
      });
      return n;
    }),
  },
  {
    name: "blockreplica.on_tape",
    type: "bool",
    local: false,
    ...perBlock((b) =>
      isComplete(b) && someReplicaOfBlock(b, (o) => o.replica.site.storageType === "mss" && isComplete(o))
    ),
  },
  {
    name: "blockreplica.age_relative_to_newest",
    type: "numeric",
    local: false,
    attribute: "blockreplica_relative_age",
    ...perBlock((b) => b.replica.world.attrs.relativeAge(b.blockId, b.replica.site.id)),
  },
  { name: "blockreplica.is_custodial", type: "bool", local: true, ...perBlock((b) => b.br.isCustodial) },
  // ---- the replica's site ----
  { name: "site.name", type: "text", local: true, get: (t) => replicaOf(t).site.name },
  {
    name: "site.status",
    type: "numeric",
    symbols: SITE_STATUS,
    local: true,
    get: (t) => siteStatusCode(replicaOf(t).site.status),
  },
  {
    name: "site.storage_type",
    type: "numeric",
    symbols: STORAGE,
    local: true,
    get: (t) => storageCode(replicaOf(t).site.storageType),
  },
];

/**
 * Version-1 variables still found in old policies (spec §2.2 "Legacy"),
 * mapped onto current ones.
 */
const legacy: ReplicaVariable[] = [
  {
    name: "replica.last_used",
    type: "time",
    local: false,
    attribute: "last_access",
    get: (t) => {
      const r = replicaOf(t);
      const lastBlock = r.visible().reduce((m, b) => Math.max(m, b.br.lastUpdate), 0);
      return Math.max(lastBlock, r.world.attrs.lastAccess(r.dataset.id));
    },
  },
  {
    name: "replica.owners",
    type: "text",
    local: false,
    get: (t) => [...owners(replicaOf(t))].map((g) => replicaOf(t).world.group(g).name ?? "None"),
  },
  {
    name: "replica.has_locked_block",
    type: "bool",
    local: false,
    attribute: "locked_blocks",
    get: (t) => {
      const r = replicaOf(t);
      const locked = r.world.attrs.lockedBlocks(r.dataset.id, r.site.id);
      return locked === null || (locked !== undefined && r.visible().some((b) => locked.has(b.blockId)));
    },
  },
];

/** Full replicas of the dataset at any site (disk or tape), as the 2016 language counted copies. */
function fullCopies(r: EvalReplica): number {
  return r.world.replicasOf(r.dataset.id).filter(isFull).length;
}

function ownerNames(r: EvalReplica): string[] {
  return [...owners(r)].map((g) => r.world.group(g).name ?? "None");
}

/**
 * Names of earlier versions of the language (2016–2018, see docs/policy_language_history.md)
 * that have no current variable of the same meaning: each is defined here by
 * what it computed. Names that simply changed are in LEGACY_ALIASES below.
 */
const legacyDerived: ReplicaVariable[] = [
  {
    // The only full copy anywhere (default required copies was 1) — 2016-08.
    name: "dataset.has_no_extra_copies",
    type: "bool",
    local: false,
    get: (t) => fullCopies(replicaOf(t)) <= 1,
  },
  {
    // Its first spelling (2016-08-06). That version computed the inverse (more than the
    // required copies), a bug fixed three days later by the rename; we read the meaning intended.
    name: "dataset.has_required_full_copies",
    type: "bool",
    local: false,
    get: (t) => fullCopies(replicaOf(t)) <= 1,
  },
  {
    // max(dataset.last_update, last access) — 2016.
    name: "dataset.last_used",
    type: "time",
    local: false,
    attribute: "last_access",
    get: (t) => Math.max(datasetOf(t).lastUpdate, replicaOf(t).world.attrs.lastAccess(datasetOf(t).id)),
  },
  {
    // Ordering by decreasing size before "Order decreasing" existed — 2016.
    name: "dataset.negative_size",
    type: "numeric",
    local: true,
    get: (t) => -datasetOf(t).size,
  },
  {
    // Full replica, the only full one of the dataset, while another replica is incomplete
    // (a transfer from it is in flight) — 2016–2017; blockreplica.is_last_transfer_source since.
    name: "replica.is_last_transfer_source",
    type: "bool",
    local: false,
    get: (t) => isLastTransferSource(replicaOf(t)),
  },
  {
    name: "dataset.is_last_transfer_source",
    type: "bool",
    local: false,
    get: (t) => isLastTransferSource(replicaOf(t)),
  },
  {
    // The replica's owner group before block-level ownership (2016); with several owners, any of them.
    name: "replica.group_name",
    type: "text",
    local: false,
    get: (t) => ownerNames(replicaOf(t)),
  },
  {
    // The replica's site activity (2016), as the site variable site.active.
    name: "site.active",
    type: "numeric",
    symbols: Object.freeze({ AVAILABLE: 0, NOCOPY: 1, IGNORE: 2 }),
    local: true,
    get: (t) => {
      const status = replicaOf(t).site.status;
      return status === "ready" ? 0 : status === "waitroom" ? 1 : 2;
    },
  },
];

function isLastTransferSource(r: EvalReplica): boolean {
  if (!isFull(r)) return false;
  const all = r.world.replicasOf(r.dataset.id);
  return all.filter(isFull).length === 1 && all.some((o) => o.visible().some((b) => !isComplete(b)));
}

/**
 * Old names that mean exactly what a current variable means (one place for
 * renames): old name → current name.
 */
export const LEGACY_ALIASES: ReadonlyMap<string, string> = new Map([
  // 2016: the latest block replica update of the replica.
  ["blockreplica.updated", "replica.last_block_created"],
  // 2016: sorted by (last block created, size); the time is what policies compared.
  ["replica.last_modified", "replica.last_block_created"],
]);

const current = [...vars, ...legacy, ...legacyDerived];
const byName = new Map(current.map((v) => [v.name, v]));
for (const [old, now] of LEGACY_ALIASES) {
  const v = byName.get(now);
  if (!v) throw new Error(`legacy alias ${old} names unknown variable ${now}`);
  byName.set(old, { ...v, name: old, get: v.get });
}

export const REPLICA_VARIABLES: ReadonlyMap<string, ReplicaVariable> = byName;

/** The v1 `site.active` states, mapped to site statuses. */
const SITE_ACTIVE = Object.freeze({
  AVAILABLE: SITE_STATUS.READY!,
  NOCOPY: SITE_STATUS.WAITROOM!,
  IGNORE: SITE_STATUS.MORGUE!,
});

const siteVars: SiteVariable[] = [
  { name: "site.name", type: "text", get: (s: EvalSite) => s.site.name },
  {
    name: "site.status",
    type: "numeric",
    symbols: SITE_STATUS,
    get: (s: EvalSite) => siteStatusCode(s.site.status),
  },
  {
    name: "site.storage_type",
    type: "numeric",
    symbols: STORAGE,
    get: (s: EvalSite) => storageCode(s.site.storageType),
  },
  { name: "site.occupancy", type: "numeric", get: (s: EvalSite) => s.occupancy },
  // The original referenced an undefined name here; this is the partition quota in bytes.
  { name: "site.quota", type: "numeric", get: (s: EvalSite) => s.quota },
  {
    name: "site.active",
    type: "numeric",
    symbols: SITE_ACTIVE,
    get: (s: EvalSite) => {
      const status = siteStatusCode(s.site.status);
      return status === SITE_STATUS.READY
        ? SITE_ACTIVE.AVAILABLE
        : status === SITE_STATUS.WAITROOM
        ? SITE_ACTIVE.NOCOPY
        : SITE_ACTIVE.IGNORE;
    },
  },
  { name: "always", type: "bool", get: () => true },
  { name: "never", type: "bool", get: () => false },
];

export const SITE_VARIABLES: ReadonlyMap<string, SiteVariable> = new Map(siteVars.map((v) => [v.name, v]));
