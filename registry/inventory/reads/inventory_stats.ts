/**
 * The inventory statistics of the original web monitor
 * (`/data/inventory/stats/{size,replication,usage}`): replicas selected by
 * per-category constraints, grouped by one category (`list_by`). Sizes are in
 * TB (10^12 bytes) as the original answered. Where the original erred (a null
 * value against a pattern raised; `list_by=group` counted every group's
 * replicas under the last group), this answers what the monitor needs.
 *
 * Pure and over plain data (the constraints are pattern texts), so that the
 * same computation runs in-process or on a reader replica
 * (docs/parallel_readers.md) with the same answer.
 */
import type { Block, BlockReplica, Dataset, DatasetReplica, Group, Site } from "../records.ts";
import type { Snapshot } from "../snapshot.ts";
import { type Pace, UNPACED } from "./pace.ts";

export const STAT_CATEGORIES = [
  "data_type",
  "dataset_status",
  "dataset_software_version",
  "dataset",
  "site",
  "site_status",
  "group",
] as const;

export type StatCategory = typeof STAT_CATEGORIES[number];

type Target = "dataset" | "site" | "group";

const TARGET: Record<StatCategory, Target> = {
  data_type: "dataset",
  dataset_status: "dataset",
  dataset_software_version: "dataset",
  dataset: "dataset",
  site: "site",
  site_status: "site",
  group: "group",
};

/**
 * Alternatives of one constraint (ORed): regular expressions matched at the start of the value (as
 * Python's `re.match`), or `null` for an absent value (the client writes `None`).
 */
export type Alternatives = readonly (string | null)[];

export const STATISTICS = ["size", "replication", "usage"] as const;
export type Statistic = typeof STATISTICS[number];

export interface StatsQuery {
  listBy: StatCategory;
  /** Bytes present (true) or the blocks' full size (projected); for replication: complete replicas only. */
  physical: boolean;
  constraints: Partial<Record<StatCategory, Alternatives>>;
}

/** A pattern of a constraint as a matcher; throws `SyntaxError` for a malformed one. */
export function prefixRegex(text: string): (value: string) => boolean {
  const re = new RegExp(`^(?:${text})`, "s");
  return (value) => re.test(value);
}

type Matcher = ((value: string) => boolean) | null;
type Compiled = Partial<Record<StatCategory, readonly Matcher[]>>;

function compile(q: StatsQuery): Compiled {
  const out: Compiled = {};
  for (const category of STAT_CATEGORIES) {
    const alternatives = q.constraints[category];
    if (alternatives) out[category] = alternatives.map((a) => (a === null ? null : prefixRegex(a)));
  }
  return out;
}

/** The name a null value is shown (and selected) by, as the original's Python `None`. */
export const NONE = "None";

const TB = 1e-12;

interface Selected {
  dataset: Dataset;
  site: Site;
  replica: DatasetReplica;
  blockReplicas: BlockReplica[];
}

function valueOf(category: StatCategory, d: Dataset, s: Site | null, g: Group | null): string | null {
  switch (category) {
    case "data_type":
      return d.dataType;
    case "dataset_status":
      return d.status;
    case "dataset_software_version":
      return d.softwareVersion;
    case "dataset":
      return d.name;
    case "site":
      return s!.name;
    case "site_status":
      return s!.status;
    case "group":
      return g!.name;
  }
}

function passes(alternatives: readonly Matcher[] | undefined, value: string | null): boolean {
  if (!alternatives || alternatives.length === 0) return true;
  return alternatives.some((a) => (a === null ? value === null : value !== null && a(value)));
}

function passesAll(q: Compiled, target: Target, d: Dataset, s: Site | null, g: Group | null): boolean {
  for (const category of STAT_CATEGORIES) {
    if (TARGET[category] !== target) continue;
    if (!passes(q[category], valueOf(category, d, s, g))) return false;
  }
  return true;
}

/**
 * Every dataset passing the dataset constraints, with its replicas at passing sites, reduced to
 * passing groups; `pace` is called once per dataset.
 */
async function* select(
  snap: Snapshot,
  query: StatsQuery,
  pace: Pace,
): AsyncGenerator<{ dataset: Dataset; replicas: Selected[] }> {
  const q = compile(query);
  const siteOk = new Map<number, boolean>();
  const groupOk = new Map<number, boolean>();
  for (const dataset of snap.datasets()) {
    await pace();
    if (!passesAll(q, "dataset", dataset, null, null)) continue;
    const replicas: Selected[] = [];
    for (const replica of snap.replicasOf(dataset.id)) {
      const site = snap.siteById(replica.siteId)!;
      let ok = siteOk.get(site.id);
      if (ok === undefined) siteOk.set(site.id, ok = passesAll(q, "site", dataset, site, null));
      if (!ok) continue;
      const blockReplicas = replica.blockReplicas.filter((br) => {
        let g = groupOk.get(br.groupId);
        if (g === undefined) {
          groupOk.set(br.groupId, g = passesAll(q, "group", dataset, site, snap.groupById(br.groupId)!));
        }
        return g;
      });
      if (blockReplicas.length > 0) replicas.push({ dataset, site, replica, blockReplicas });
    }
    yield { dataset, replicas };
  }
}

const keyOf = (v: string | null) => v ?? NONE;

function bytes(snap: Snapshot, brs: readonly BlockReplica[], physical: boolean): number {
  let sum = 0;
  for (const br of brs) sum += physical ? br.size : (snap.blockById(br.blockId) as Block).size;
  return sum;
}

/** Selected replicas (and their block replicas) per key of `list_by`. */
async function categorize(snap: Snapshot, q: StatsQuery, pace: Pace): Promise<Map<string, Selected[]>> {
  const out = new Map<string, Selected[]>();
  const add = (key: string, s: Selected) => {
    const list = out.get(key);
    if (list) list.push(s);
    else out.set(key, [s]);
  };
  const target = TARGET[q.listBy];
  for await (const { dataset, replicas } of select(snap, q, pace)) {
    for (const s of replicas) {
      if (target === "dataset") add(keyOf(valueOf(q.listBy, dataset, null, null)), s);
      else if (target === "site") add(keyOf(valueOf(q.listBy, dataset, s.site, null)), s);
      else {
        const byGroup = new Map<number, BlockReplica[]>();
        for (const br of s.blockReplicas) byGroup.set(br.groupId, [...byGroup.get(br.groupId) ?? [], br]);
        for (const [groupId, brs] of byGroup) {
          add(keyOf(snap.groupById(groupId)!.name), { ...s, blockReplicas: brs });
        }
      }
    }
  }
  return out;
}

export async function sizeStats(snap: Snapshot, q: StatsQuery, pace: Pace = UNPACED) {
  const content = [...await categorize(snap, q, pace)].map(([key, list]) => ({
    key,
    size: list.reduce((sum, s) => sum + bytes(snap, s.blockReplicas, q.physical), 0) * TB,
  }));
  content.sort((a, b) => b.size - a.size || a.key.localeCompare(b.key));
  return { statistic: "size", content };
}

/** Whether a replica holds every block of its dataset, complete. */
function complete(s: Selected): boolean {
  return s.blockReplicas.length === s.dataset.blockIds.length &&
    s.blockReplicas.every((br) => br.fileIds === null);
}

export async function replicationStats(snap: Snapshot, q: StatsQuery, pace: Pace = UNPACED) {
  const counts = new Map<string, number[]>(); // key → one count per dataset
  const push = (key: string, n: number) => {
    const list = counts.get(key);
    if (list) list.push(n);
    else counts.set(key, [n]);
  };
  const target = TARGET[q.listBy];
  for await (const { dataset, replicas } of select(snap, q, pace)) {
    const counted = q.physical ? replicas.filter(complete) : replicas;
    if (target === "dataset") push(keyOf(valueOf(q.listBy, dataset, null, null)), counted.length);
    else if (target === "site") {
      for (const s of counted) push(keyOf(valueOf(q.listBy, dataset, s.site, null)), 1);
    } else {
      const perGroup = new Map<string, number>();
      for (const s of counted) {
        for (const key of new Set(s.blockReplicas.map((br) => keyOf(snap.groupById(br.groupId)!.name)))) {
          perGroup.set(key, (perGroup.get(key) ?? 0) + 1);
        }
      }
      for (const [key, n] of perGroup) push(key, n);
    }
  }
  const content = [...counts].map(([key, list]) => {
    const mean = list.reduce((a, b) => a + b, 0) / list.length;
    const mean2 = list.reduce((a, b) => a + b * b, 0) / list.length;
    return { key, mean, rms: Math.sqrt(Math.max(0, mean2 - mean * mean)) };
  });
  content.sort((a, b) => b.mean - a.mean || a.key.localeCompare(b.key));
  return { statistic: "replication", content };
}

export async function usageStats(snap: Snapshot, q: StatsQuery, pace: Pace = UNPACED) {
  const bySite = new Map<string, Map<string, number>>();
  const categories = await categorize(snap, q, pace);
  for (const [key, list] of categories) {
    for (const s of list) {
      const site = bySite.get(s.site.name) ?? new Map<string, number>();
      bySite.set(s.site.name, site);
      site.set(key, (site.get(key) ?? 0) + bytes(snap, s.blockReplicas, q.physical));
    }
  }
  const content = [...bySite].map(([site, usage]) => ({
    site,
    usage: [...usage].map(([key, size]) => ({ key, size: size * TB }))
      .sort((a, b) => b.size - a.size || a.key.localeCompare(b.key)),
  })).sort((a, b) => a.site.localeCompare(b.site));
  return { statistic: "usage", content, keys: [...categories.keys()].sort() };
}

/** One of the three statistics. */
export function inventoryStats(snap: Snapshot, statistic: Statistic, q: StatsQuery, pace: Pace = UNPACED) {
  switch (statistic) {
    case "size":
      return sizeStats(snap, q, pace);
    case "replication":
      return replicationStats(snap, q, pace);
    case "usage":
      return usageStats(snap, q, pace);
  }
}
