import { assertEquals } from "../tests/helpers/assert.ts";
import {
  type Block,
  type BlockReplica,
  type Dataset,
  type Group,
  NULL_GROUP,
  PartitionTable,
  type Site,
} from "../registry/inventory/mod.ts";
import { parsePartitions } from "./partitions.ts";

const site = (name: string, storageType: "disk" | "mss"): Site =>
  Object.freeze({
    id: name.length,
    name,
    host: "h",
    storageType,
    backend: "",
    status: "ready",
    filenameMappings: Object.freeze({}),
  });
const group = (id: number, name: string): Group => Object.freeze({ id, name, olevel: "Block" });
const dataset = (name: string): Dataset =>
  Object.freeze({
    id: 1,
    name,
    status: "valid",
    dataType: "unknown",
    softwareVersion: null,
    lastUpdate: 0,
    isOpen: false,
    size: 0,
    numFiles: 0,
    blockIds: [],
  }) as Dataset;
const block: Block = Object.freeze({
  id: 1,
  datasetId: 1,
  name: "b",
  size: 0,
  numFiles: 0,
  isOpen: false,
  lastUpdate: 0,
});
const br = (groupId: number): BlockReplica => ({
  blockId: 1,
  siteId: 1,
  groupId,
  isCustodial: false,
  size: 0,
  lastUpdate: 0,
  fileIds: null,
  partitions: 0,
});

Deno.test("partitions that read only the site and the owner say so; any other variable does not", () => {
  const defs = parsePartitions(`A: blockreplica.owner == Ops and site.storage_type == DISK
T: site.name == T*_MSS
S: site.status == READY
D: dataset.name == /x/*
`);
  assertEquals(defs.map((d) => d.siteAndOwnerOnly), [true, true, true, false]);
});

/** Two partitions reading only the site and the owner, two owners, two sites, and `membership` for a pair. */
function siteOwnerPartitions() {
  const ops = group(1, "Ops"), other = group(2, "Other");
  const disk = site("T2_X", "disk"), tape = site("T1_X_MSS", "mss");
  const table = new PartitionTable(
    parsePartitions("A: blockreplica.owner == Ops and site.storage_type == DISK\nT: site.name == T*_MSS\n"),
  );
  const mask = (s: Site, g: Group) =>
    table.membership({
      blockReplica: br(g.id),
      block,
      dataset: dataset("/x/y"),
      datasetReplica: undefined,
      site: s,
      group: g,
    });
  return { ops, other, disk, tape, table, mask };
}

Deno.test("membership remembered per (site, owner) gives what the conditions give, and follows changed records", () => {
  const { ops, other, disk, tape, table, mask } = siteOwnerPartitions();
  for (let round = 0; round < 2; round++) {
    assertEquals([mask(disk, ops), mask(disk, other), mask(tape, ops), mask(disk, NULL_GROUP)], [1, 0, 2, 0]);
  }
  // A site changed by the reducer is a new record: its answer is computed again.
  const renamed = Object.freeze({ ...disk, name: "T1_Y_MSS", storageType: "mss" as const });
  assertEquals(table.siteOwnerMembership(renamed, ops), undefined);
  assertEquals(mask(renamed, ops), 2);
});

Deno.test("siteOwnerMembership answers only what membership remembered, for the exact records", () => {
  const { ops, other, disk, tape, table, mask } = siteOwnerPartitions();
  assertEquals(table.siteOwnerMembership(disk, ops), undefined); // never asked: not known
  // No record (a caller's bug): not known either, not the empty mask of a pair never remembered.
  const none = undefined as unknown as Site, nobody = undefined as unknown as Group;
  assertEquals(table.siteOwnerMembership(none, nobody), undefined);
  assertEquals(mask(disk, ops), 1);
  assertEquals(mask(tape, other), 2);
  // Alternating pairs (the one-pair shortcut must not answer for another pair).
  for (let i = 0; i < 3; i++) {
    assertEquals(table.siteOwnerMembership(disk, ops), 1);
    assertEquals(table.siteOwnerMembership(tape, other), 2);
  }
  assertEquals(table.siteOwnerMembership(disk, other), undefined);
  assertEquals(table.siteOwnerMembership(tape, ops), undefined);
  // Equal content, another record: not known (records are compared by identity).
  assertEquals(table.siteOwnerMembership(Object.freeze({ ...disk }), ops), undefined);

  // A condition reading the dataset: never answered per site and owner.
  const byDataset = new PartitionTable(parsePartitions("D: dataset.name == /x/*\n"));
  byDataset.membership({
    blockReplica: br(1),
    block,
    dataset: dataset("/x/a"),
    datasetReplica: undefined,
    site: disk,
    group: ops,
  });
  assertEquals(byDataset.siteOwnerMembership(disk, ops), undefined);
  assertEquals(byDataset.siteOwnerMembership(none, nobody), undefined);
});

Deno.test("a partition reading the dataset is evaluated for every block replica (never remembered per site and owner)", () => {
  const ops = group(1, "Ops"), disk = site("T2_X", "disk");
  const table = new PartitionTable(parsePartitions("D: dataset.name == /x/*\n"));
  const mask = (name: string) =>
    table.membership({
      blockReplica: br(1),
      block,
      dataset: dataset(name),
      datasetReplica: undefined,
      site: disk,
      group: ops,
    });
  assertEquals([mask("/x/a"), mask("/y/a"), mask("/x/b")], [1, 0, 1]);
});
