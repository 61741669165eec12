import { InventoryValidationError } from "./errors.ts";
import { nameProblem } from "./names.ts";
import type { Block, BlockReplica, Dataset, DatasetReplica, Group, Partition, Site } from "./records.ts";
import { NULL_GROUP_ID } from "./records.ts";

/** Everything a partition condition may look at for one block replica. */
export interface MembershipContext {
  readonly blockReplica: BlockReplica;
  readonly block: Block;
  readonly dataset: Dataset;
  readonly datasetReplica: DatasetReplica | undefined;
  readonly site: Site;
  readonly group: Group;
}

/**
 * A partition as configured: a condition on block replicas (compiled by the
 * policy language from the partitions file), or a list of subpartitions.
 */
export interface PartitionDefinition {
  readonly name: string;
  readonly condition?: (c: MembershipContext) => boolean;
  readonly subpartitions?: readonly string[];
  /** The condition's source text, for display. */
  readonly text?: string;
  /**
   * The condition reads nothing but the context's `site` and `group` records (the site's fields
   * and the owner's name): its answer can be remembered per (site record, group record).
   */
  readonly siteAndOwnerOnly?: boolean;
}

/** Until a partitions file is configured: one partition of every owned replica. */
export const DEFAULT_PARTITIONS: readonly PartitionDefinition[] = [{
  name: "Default",
  condition: (c) => c.blockReplica.groupId !== NULL_GROUP_ID,
  text: "blockreplica.owner != None",
}];

/** Membership masks are small integers: at most 31 basic partitions. */
export const MAX_BASIC_PARTITIONS = 31;

/** The configured partitions with their persistent ids and membership bits. */
export class PartitionTable {
  readonly byId = new Map<number, Partition>();
  readonly byName = new Map<string, Partition>();
  /** Basic partitions in bit order. */
  readonly basic: readonly Partition[];
  readonly #conditions: ((c: MembershipContext) => boolean)[];
  readonly definitions: readonly PartitionDefinition[];
  /**
   * Masks by site record, then group record, when every condition reads only those two: the
   * loader asks for every block replica, and there are few (site, owner) pairs. Records are
   * immutable (a changed site is a new record), so a remembered mask is never stale.
   */
  readonly #bySiteOwner: WeakMap<Site, Map<Group, number>> | null;

  /**
   * @param ids persistent ids of partitions already known (name → id); new
   *   names get fresh ids above the largest known one.
   */
  constructor(definitions: readonly PartitionDefinition[], ids: ReadonlyMap<string, number> = new Map()) {
    this.definitions = definitions;
    const seen = new Set<string>();
    let nextId = Math.max(0, ...ids.values()) + 1;
    const idOf = (name: string) => ids.get(name) ?? nextId++;
    const basic: Partition[] = [];
    const conditions: ((c: MembershipContext) => boolean)[] = [];
    for (const def of definitions) {
      const where = `partition "${def.name}"`;
      const problem = nameProblem("partition", def.name);
      if (problem) throw new InventoryValidationError(where, "name", problem);
      if (seen.has(def.name)) throw new InventoryValidationError(where, "name", "is defined twice");
      seen.add(def.name);
      if (!def.condition === !def.subpartitions) {
        throw new InventoryValidationError(
          where,
          null,
          "needs exactly one of a condition or a subpartition list",
        );
      }
      if (def.condition) {
        if (basic.length === MAX_BASIC_PARTITIONS) {
          throw new InventoryValidationError(
            where,
            null,
            `at most ${MAX_BASIC_PARTITIONS} basic partitions are supported`,
          );
        }
        const p: Partition = {
          id: idOf(def.name),
          name: def.name,
          bit: basic.length,
          subpartitionIds: null,
          parentId: null,
        };
        basic.push(p);
        conditions.push(def.condition);
        this.#add(p);
      }
    }
    for (const def of definitions) {
      if (!def.subpartitions) continue;
      const where = `partition "${def.name}"`;
      const subIds: number[] = [];
      for (const sub of def.subpartitions) {
        const p = this.byName.get(sub);
        if (!p) {
          throw new InventoryValidationError(
            where,
            "subpartitions",
            `unknown or non-basic subpartition "${sub}"`,
          );
        }
        subIds.push(p.id);
      }
      if (subIds.length === 0) {
        throw new InventoryValidationError(where, "subpartitions", "must not be empty");
      }
      this.#add({ id: idOf(def.name), name: def.name, bit: null, subpartitionIds: subIds, parentId: null });
    }
    // Record parents (a basic partition may belong to several superpartitions; the first wins for display).
    for (const p of [...this.byId.values()]) {
      for (const subId of p.subpartitionIds ?? []) {
        const sub = this.byId.get(subId)!;
        if (sub.parentId === null) this.#replace({ ...sub, parentId: p.id });
      }
    }
    this.basic = basic.map((p) => this.byId.get(p.id)!);
    this.#conditions = conditions;
    this.#bySiteOwner = definitions.every((d) => !d.condition || d.siteAndOwnerOnly === true)
      ? new WeakMap()
      : null;
  }

  #add(p: Partition): void {
    this.byId.set(p.id, Object.freeze(p));
    this.byName.set(p.name, this.byId.get(p.id)!);
  }

  #replace(p: Partition): void {
    this.#add(p);
  }

  /** All partitions in definition order. */
  all(): Partition[] {
    return this.definitions.map((d) => this.byName.get(d.name)!);
  }

  /** The last (site, owner) pair `siteOwnerMembership` answered, and its mask. */
  #lastSite: Site | undefined;
  #lastGroup: Group | undefined;
  #lastMask = 0;

  /**
   * The mask `membership` gives every block replica at `site` owned by `group`, when the conditions
   * read nothing else and it is already known; else undefined (then call `membership`). Lets the
   * reducer and the loader skip building a context for each block replica: consecutive ones mostly
   * share their site and owner.
   */
  siteOwnerMembership(site: Site, group: Group): number | undefined {
    const memo = this.#bySiteOwner;
    if (memo === null) return undefined;
    // `#lastSite` is undefined until a pair is remembered: a missing record is never taken for it.
    if (site === this.#lastSite && site !== undefined && group === this.#lastGroup) return this.#lastMask;
    const mask = memo.get(site)?.get(group);
    if (mask !== undefined) {
      this.#lastSite = site;
      this.#lastGroup = group;
      this.#lastMask = mask;
    }
    return mask;
  }

  /** Bit mask of the basic partitions that contain this block replica. */
  membership(c: MembershipContext): number {
    const memo = this.#bySiteOwner;
    if (memo === null) return this.#evaluate(c);
    let byOwner = memo.get(c.site);
    if (byOwner === undefined) memo.set(c.site, byOwner = new Map());
    let mask = byOwner.get(c.group);
    if (mask === undefined) byOwner.set(c.group, mask = this.#evaluate(c));
    return mask;
  }

  #evaluate(c: MembershipContext): number {
    let mask = 0;
    for (let i = 0; i < this.#conditions.length; i++) {
      if (this.#conditions[i]!(c)) mask |= 1 << i;
    }
    return mask;
  }

  /** Mask of the basic partitions making up `p` (itself, or its subpartitions). */
  maskOf(p: Partition): number {
    if (p.bit !== null) return 1 << p.bit;
    let mask = 0;
    for (const id of p.subpartitionIds ?? []) mask |= this.maskOf(this.byId.get(id)!);
    return mask;
  }
}
