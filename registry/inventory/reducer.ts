/**
 * Long on purpose (~700 lines): one handler per inventory command, all sharing the
 * check-everything-before-the-first-write discipline and the cascade helpers of spec §1.2; split by
 * command, the cascades would be scattered over files that must change together.
 */
import { commandObject, type InventoryCommand, type NewFile } from "./commands.ts";
import { InventoryValidationError } from "./errors.ts";
import { MAX_TOTAL_BYTES } from "./input_rules.ts";
import type { Block, BlockReplica, Dataset, DatasetReplica, FileRecord, Site } from "./records.ts";
import { NULL_GROUP_ID } from "./records.ts";
import type { StateBuilder } from "./state_builder.ts";

/**
 * The pure inventory reducer: applies one command to a builder. Each handler
 * checks everything first and throws `InventoryValidationError` before the
 * first write, so a rejected command changes nothing. Cascade rules follow
 * spec §1.2.
 */
export function applyCommand(b: StateBuilder, cmd: InventoryCommand): void {
  try {
    dispatch(b, cmd);
  } catch (e) {
    // Handlers name the object lazily: building labels for commands that succeed is measurable.
    if (e instanceof InventoryValidationError && e.object === THIS_COMMAND) {
      throw new InventoryValidationError(commandObject(cmd), e.field, e.reason);
    }
    throw e;
  }
}

/** Placeholder object label, replaced by the command's own label when an error leaves applyCommand. */
const THIS_COMMAND = "\u0000this command";

function dispatch(b: StateBuilder, cmd: InventoryCommand): void {
  const where = THIS_COMMAND;
  switch (cmd.op) {
    case "dataset.upsert":
      return upsertDataset(b, cmd);
    case "dataset.delete":
      return deleteDataset(b, mustDataset(b, cmd.name, where, "name"));
    case "block.upsert":
      return upsertBlock(b, cmd, where);
    case "block.delete": {
      const d = mustDataset(b, cmd.dataset, where, "dataset");
      return deleteBlock(b, mustBlock(b, d, cmd.block, where));
    }
    case "files.add":
      return addFiles(b, cmd, where);
    case "files.delete":
      return deleteFiles(b, cmd, where);
    case "site.upsert":
      return upsertSite(b, cmd);
    case "site.delete":
      return deleteSite(b, mustSite(b, cmd.name, where, "name"));
    case "group.upsert":
      return upsertGroup(b, cmd);
    case "group.delete":
      return deleteGroup(b, cmd.name, where);
    case "quota.set":
      return setQuota(b, cmd, where);
    case "dataset_replica.upsert":
      return upsertDatasetReplica(b, cmd, where);
    case "dataset_replica.delete": {
      const d = mustDataset(b, cmd.dataset, where, "dataset");
      const s = mustSite(b, cmd.site, where, "site");
      if (!b.replica(d.id, s.id)) throw new InventoryValidationError(where, null, "does not exist");
      return deleteDatasetReplica(b, d.id, s.id);
    }
    case "block_replica.upsert":
      return upsertBlockReplica(b, cmd, where);
    case "block_replica.delete":
      return deleteBlockReplica(b, cmd, where);
  }
}

// ---- lookups that fail with a named field --------------------------------------

function mustDataset(b: StateBuilder, name: string, where: string, field: string): Dataset {
  const d = b.datasetByName(name);
  if (!d) throw new InventoryValidationError(where, field, `unknown dataset ${JSON.stringify(name)}`);
  return d;
}

function mustBlock(b: StateBuilder, d: Dataset, name: string, where: string): Block {
  const block = b.blockByName(d.id, name);
  if (!block) {
    throw new InventoryValidationError(
      where,
      "block",
      `unknown block ${JSON.stringify(`${d.name}#${name}`)}`,
    );
  }
  return block;
}

function mustSite(b: StateBuilder, name: string, where: string, field: string): Site {
  const s = b.siteByName(name);
  if (!s) throw new InventoryValidationError(where, field, `unknown site ${JSON.stringify(name)}`);
  return s;
}

function mustBlockAtSite(
  b: StateBuilder,
  cmd: { dataset: string; block: string; site: string },
  where: string,
): { d: Dataset; block: Block; site: Site } {
  const d = mustDataset(b, cmd.dataset, where, "dataset");
  return { d, block: mustBlock(b, d, cmd.block, where), site: mustSite(b, cmd.site, where, "site") };
}

function mustGroupId(b: StateBuilder, name: string | null, where: string, field: string): number {
  const g = b.groupByName(name);
  if (!g) throw new InventoryValidationError(where, field, `unknown group ${JSON.stringify(name)}`);
  return g.id;
}

// ---- datasets and blocks -----------------------------------------------------

function upsertDataset(b: StateBuilder, cmd: Extract<InventoryCommand, { op: "dataset.upsert" }>): void {
  const old = b.datasetByName(cmd.name);
  const next: Dataset = old
    ? {
      ...old,
      status: cmd.status ?? old.status,
      dataType: cmd.data_type ?? old.dataType,
      softwareVersion: cmd.software_version !== undefined ? cmd.software_version : old.softwareVersion,
      isOpen: cmd.is_open ?? old.isOpen,
      lastUpdate: cmd.last_update ?? old.lastUpdate,
    }
    : {
      id: b.datasetIdFor(cmd.name),
      name: cmd.name,
      status: cmd.status ?? "unknown",
      dataType: cmd.data_type ?? "unknown",
      softwareVersion: cmd.software_version ?? null,
      isOpen: cmd.is_open ?? true,
      lastUpdate: cmd.last_update ?? b.now,
      size: 0,
      numFiles: 0,
      blockIds: [],
    };
  if (old && sameFields(old, next)) return;
  b.putDataset(Object.freeze(next));
  if (old && old.status !== next.status) refreshMembership(b, next.id);
}

function deleteDataset(b: StateBuilder, d: Dataset): void {
  for (const dr of b.replicasOf(d.id)) {
    b.clearBlockReplicas(d.id, dr.siteId);
    b.removeDatasetReplica(d.id, dr.siteId);
  }
  for (const blockId of d.blockIds) {
    b.purgeBlockFiles(blockId);
    b.removeBlock(blockId);
  }
  b.removeDataset(d.id);
}

function upsertBlock(
  b: StateBuilder,
  cmd: Extract<InventoryCommand, { op: "block.upsert" }>,
  where: string,
): void {
  const d = mustDataset(b, cmd.dataset, where, "dataset");
  const old = b.blockByName(d.id, cmd.block);
  if (old) {
    const next: Block = {
      ...old,
      isOpen: cmd.is_open ?? old.isOpen,
      lastUpdate: cmd.last_update ?? old.lastUpdate,
    };
    if (!sameFields(old, next)) b.putBlock(Object.freeze(next));
    return;
  }
  const block: Block = Object.freeze({
    id: b.blockIdFor(d.id, cmd.block),
    datasetId: d.id,
    name: cmd.block,
    size: 0,
    numFiles: 0,
    isOpen: cmd.is_open ?? true,
    lastUpdate: cmd.last_update ?? b.now,
  });
  b.putBlock(block);
  b.putDataset(Object.freeze({ ...d, blockIds: [...d.blockIds, block.id] }));
  // Growing replicas ("dataset subscriptions") get every new block automatically.
  for (const dr of b.replicasOf(d.id)) {
    if (!dr.growing) continue;
    putBlockReplica(b, d, block, dr.siteId, {
      groupId: dr.groupId,
      isCustodial: false,
      lastUpdate: b.now,
      fileIds: null,
      size: block.size,
    });
  }
}

function deleteBlock(b: StateBuilder, block: Block): void {
  const d = b.dataset(block.datasetId)!;
  for (const dr of b.replicasOf(d.id)) {
    if (b.blockReplica(dr, block.id)) removeBlockReplicaCascading(b, d.id, dr.siteId, block.id);
  }
  b.purgeBlockFiles(block.id);
  b.removeBlock(block.id);
  b.putDataset(Object.freeze({
    ...d,
    blockIds: d.blockIds.filter((id) => id !== block.id),
    size: d.size - block.size,
    numFiles: d.numFiles - block.numFiles,
  }));
}

// ---- files ----------------------------------------------------------------------

function addFiles(b: StateBuilder, cmd: Extract<InventoryCommand, { op: "files.add" }>, where: string): void {
  const d = mustDataset(b, cmd.dataset, where, "dataset");
  const block = mustBlock(b, d, cmd.block, where);
  const replicas = b.replicasOf(d.id).filter((dr) => b.blockReplica(dr, block.id));
  const groupId = cmd.group !== undefined ? mustGroupId(b, cmd.group, where, "group") : NULL_GROUP_ID;
  const fresh: NewFile[] = [];
  const presentAt = new Map<string, FileRecord[]>(); // site → existing files newly reported there
  const seen = new Set<string>();
  for (const [i, f] of cmd.files.entries()) {
    if (seen.has(f.lfn)) {
      throw new InventoryValidationError(where, `files[${i}].lfn`, `duplicate LFN ${JSON.stringify(f.lfn)}`);
    }
    seen.add(f.lfn);
    if (f.site !== undefined) mustSite(b, f.site, where, `files[${i}].site`);
    const existing = b.fileByLfn(f.lfn);
    if (existing) {
      if (existing.blockId !== block.id) {
        const other = b.block(existing.blockId);
        throw new InventoryValidationError(
          where,
          `files[${i}].lfn`,
          `${JSON.stringify(f.lfn)} already belongs to block ${
            JSON.stringify(other ? other.name : existing.blockId)
          }`,
        );
      }
      if (existing.size !== f.size) {
        throw new InventoryValidationError(
          where,
          `files[${i}].size`,
          `${JSON.stringify(f.lfn)} is already known with size ${existing.size}`,
        );
      }
      if (f.site !== undefined) presentAt.set(f.site, [...presentAt.get(f.site) ?? [], existing]);
      continue;
    }
    if (f.site === undefined && replicas.length > 0) {
      throw new InventoryValidationError(
        where,
        `files[${i}].site`,
        "is required when the block already has replicas (otherwise no replica can ever complete)",
      );
    }
    fresh.push(f);
  }
  if (fresh.length === 0 && presentAt.size === 0) return;
  checkTotals(b, d, block, fresh, where);

  // Sites named by files that have no replica of the block yet get one (as the original injector did).
  const oldIds = [...b.blockFileIds(block.id)];
  const added: FileRecord[] = fresh.map((f) =>
    Object.freeze({
      id: b.fileId(),
      lfn: f.lfn,
      blockId: block.id,
      size: f.size,
      checksum: Object.freeze({ ...f.checksum }),
    })
  );
  for (const f of added) b.addFile(f);
  const addedSize = totalSize(added);
  const nextBlock: Block = Object.freeze({
    ...block,
    size: block.size + addedSize,
    numFiles: block.numFiles + added.length,
    lastUpdate: added.length > 0 ? b.now : block.lastUpdate,
  });
  if (added.length > 0) {
    b.putBlock(nextBlock);
    const current = b.dataset(d.id)!;
    b.putDataset(
      Object.freeze({
        ...current,
        size: current.size + addedSize,
        numFiles: current.numFiles + added.length,
      }),
    );
  }
  const newAt = new Map<string, FileRecord[]>();
  for (const [i, f] of fresh.entries()) {
    if (f.site !== undefined) newAt.set(f.site, [...newAt.get(f.site) ?? [], added[i]!]);
  }
  const sitesTouched = new Set([...newAt.keys(), ...presentAt.keys()]);
  for (const siteName of sitesTouched) {
    const site = b.siteByName(siteName)!;
    if (!b.replica(d.id, site.id)) b.putDatasetReplicaFields(d.id, site.id, { growing: false, groupId });
    const dr = b.replica(d.id, site.id)!;
    if (!b.blockReplica(dr, block.id)) {
      putBlockReplica(b, d, nextBlock, site.id, {
        groupId,
        isCustodial: false,
        lastUpdate: b.now,
        fileIds: [],
        size: 0,
      });
    }
  }
  // Every replica of the block: complete ones that lack a new file now list the old files explicitly.
  for (const dr of b.replicasOf(d.id)) {
    const br = b.blockReplica(dr, block.id);
    if (!br) continue;
    const site = b.site(dr.siteId)!;
    const gained = [...(newAt.get(site.name) ?? []), ...(presentAt.get(site.name) ?? [])];
    const wasComplete = br.fileIds === null;
    if (wasComplete && newAt.get(site.name)?.length === added.length) {
      if (added.length > 0) {
        putBlockReplica(b, d, nextBlock, dr.siteId, { ...br, size: nextBlock.size, lastUpdate: b.now });
      }
      continue;
    }
    if (wasComplete && added.length === 0) continue;
    const base = wasComplete ? oldIds : br.fileIds!;
    const have = new Set(base);
    const gainedNew = gained.filter((f) => !have.has(f.id));
    if (!wasComplete && gainedNew.length === 0) continue;
    const fileIds = [...base, ...gainedNew.map((f) => f.id)];
    const size = (wasComplete ? block.size : br.size) + totalSize(gainedNew);
    putBlockReplica(b, d, nextBlock, dr.siteId, {
      ...br,
      fileIds,
      size,
      lastUpdate: gainedNew.length > 0 ? b.now : br.lastUpdate,
    });
  }
}

/** Block and dataset sizes stay exact and within int8 (the database would refuse the commit otherwise). */
function checkTotals(b: StateBuilder, d: Dataset, block: Block, fresh: NewFile[], where: string): void {
  const added = totalSize(fresh);
  const dataset = b.dataset(d.id) ?? d;
  for (const [what, size] of [["block", block.size], ["dataset", dataset.size]] as const) {
    if (size + added > MAX_TOTAL_BYTES) {
      throw new InventoryValidationError(
        where,
        "files",
        `the ${what} would hold ${size + added} bytes, more than ${MAX_TOTAL_BYTES}`,
      );
    }
  }
}

function deleteFiles(
  b: StateBuilder,
  cmd: Extract<InventoryCommand, { op: "files.delete" }>,
  where: string,
): void {
  const d = mustDataset(b, cmd.dataset, where, "dataset");
  const block = mustBlock(b, d, cmd.block, where);
  const files: FileRecord[] = [];
  const seen = new Set<string>();
  for (const [i, lfn] of cmd.lfns.entries()) {
    const f = b.fileByLfn(lfn);
    if (!f || f.blockId !== block.id) {
      throw new InventoryValidationError(
        where,
        `lfns[${i}]`,
        `unknown file ${JSON.stringify(lfn)} in this block`,
      );
    }
    if (!seen.has(lfn)) files.push(f);
    seen.add(lfn);
  }
  if (files.length === 0) return;
  const removedIds = new Set(files.map((f) => f.id));
  const removedSize = totalSize(files);
  for (const f of files) b.deleteFile(f);
  const nextBlock: Block = Object.freeze({
    ...block,
    size: block.size - removedSize,
    numFiles: block.numFiles - files.length,
    lastUpdate: b.now,
  });
  b.putBlock(nextBlock);
  const current = b.dataset(d.id)!;
  b.putDataset(
    Object.freeze({
      ...current,
      size: current.size - removedSize,
      numFiles: current.numFiles - files.length,
    }),
  );
  for (const dr of b.replicasOf(d.id)) {
    const br = b.blockReplica(dr, block.id);
    if (!br) continue;
    if (br.fileIds === null) {
      putBlockReplica(b, d, nextBlock, dr.siteId, { ...br, size: nextBlock.size });
      continue;
    }
    const lost = files.filter((f) => br.fileIds!.includes(f.id));
    const fileIds = br.fileIds.filter((id) => !removedIds.has(id));
    const size = br.size - totalSize(lost);
    putBlockReplica(b, d, nextBlock, dr.siteId, { ...br, fileIds, size });
  }
}

// ---- sites, groups, quotas ---------------------------------------------------------

function upsertSite(b: StateBuilder, cmd: Extract<InventoryCommand, { op: "site.upsert" }>): void {
  const old = b.siteByName(cmd.name);
  const next: Site = old
    ? {
      ...old,
      host: cmd.host ?? old.host,
      storageType: cmd.storage_type ?? old.storageType,
      backend: cmd.backend ?? old.backend,
      status: cmd.status ?? old.status,
      filenameMappings: cmd.filename_mappings ?? old.filenameMappings,
    }
    : {
      id: b.siteIdFor(cmd.name),
      name: cmd.name,
      host: cmd.host ?? "",
      storageType: cmd.storage_type ?? "unknown",
      backend: cmd.backend ?? "",
      status: cmd.status ?? "unknown",
      filenameMappings: cmd.filename_mappings ?? {},
    };
  if (old && sameFields(old, next) && old.filenameMappings === next.filenameMappings) return;
  b.putSite(Object.freeze(next));
  if (old && (old.storageType !== next.storageType || old.status !== next.status)) {
    for (const datasetId of [...b.datasetIdsAt(next.id)]) refreshMembership(b, datasetId, next.id);
  }
}

function deleteSite(b: StateBuilder, site: Site): void {
  for (const datasetId of [...b.datasetIdsAt(site.id)]) {
    b.clearBlockReplicas(datasetId, site.id);
    b.removeDatasetReplica(datasetId, site.id);
  }
  b.removeSite(site.id);
}

function upsertGroup(b: StateBuilder, cmd: Extract<InventoryCommand, { op: "group.upsert" }>): void {
  const old = b.groupByName(cmd.name);
  if (old && old.olevel === (cmd.olevel ?? old.olevel)) return;
  b.putGroup(
    Object.freeze({
      id: old?.id ?? b.groupIdFor(cmd.name),
      name: cmd.name,
      olevel: cmd.olevel ?? old?.olevel ?? "Block",
    }),
  );
}

function deleteGroup(b: StateBuilder, name: string, where: string): void {
  const g = b.groupByName(name);
  if (!g) throw new InventoryValidationError(where, "name", `unknown group ${JSON.stringify(name)}`);
  // Everything the group owned passes to the null group (spec §1.2). Rare: a full scan is fine.
  for (const site of [...b.allSites()]) {
    for (const datasetId of [...b.datasetIdsAt(site.id)]) {
      const dr = b.replica(datasetId, site.id)!;
      if (dr.groupId === g.id) {
        b.putDatasetReplicaFields(datasetId, site.id, { growing: dr.growing, groupId: NULL_GROUP_ID });
      }
      const d = b.dataset(datasetId)!;
      for (const br of [...b.replica(datasetId, site.id)!.blockReplicas]) {
        if (br.groupId === g.id) {
          putBlockReplica(b, d, b.block(br.blockId)!, site.id, { ...br, groupId: NULL_GROUP_ID });
        }
      }
    }
  }
  b.removeGroup(g.id);
}

function setQuota(b: StateBuilder, cmd: Extract<InventoryCommand, { op: "quota.set" }>, where: string): void {
  const site = mustSite(b, cmd.site, where, "site");
  const p = b.partitions.byName.get(cmd.partition);
  if (!p) {
    throw new InventoryValidationError(
      where,
      "partition",
      `unknown partition ${JSON.stringify(cmd.partition)}`,
    );
  }
  if (p.bit === null) {
    throw new InventoryValidationError(
      where,
      "partition",
      "the quota of a superpartition is the sum of its subpartitions and cannot be set",
    );
  }
  if (cmd.quota < 0 && p.parentId !== null) {
    throw new InventoryValidationError(
      where,
      "quota",
      "a subpartition of a superpartition cannot have an infinite quota",
    );
  }
  if (b.ledgerOf(site.id)?.quota[p.bit] === cmd.quota) return;
  b.setQuota(site.id, p.bit, cmd.quota);
}

// ---- replicas --------------------------------------------------------------------

function upsertDatasetReplica(
  b: StateBuilder,
  cmd: Extract<InventoryCommand, { op: "dataset_replica.upsert" }>,
  where: string,
): void {
  const d = mustDataset(b, cmd.dataset, where, "dataset");
  const site = mustSite(b, cmd.site, where, "site");
  const groupId = cmd.group !== undefined ? mustGroupId(b, cmd.group, where, "group") : undefined;
  const old = b.replica(d.id, site.id);
  if (old) {
    b.putDatasetReplicaFields(d.id, site.id, {
      growing: cmd.growing ?? old.growing,
      groupId: groupId ?? old.groupId,
    });
    return;
  }
  const isOrigin = b.replicasOf(d.id).length === 0;
  if (isOrigin && cmd.growing === true) {
    throw new InventoryValidationError(
      where,
      "growing",
      "the first replica of a dataset is its origin and cannot be growing",
    );
  }
  b.putDatasetReplicaFields(d.id, site.id, {
    growing: cmd.growing ?? !isOrigin,
    groupId: groupId ?? NULL_GROUP_ID,
  });
}

function deleteDatasetReplica(b: StateBuilder, datasetId: number, siteId: number): void {
  b.clearBlockReplicas(datasetId, siteId);
  b.removeDatasetReplica(datasetId, siteId);
}

function upsertBlockReplica(
  b: StateBuilder,
  cmd: Extract<InventoryCommand, { op: "block_replica.upsert" }>,
  where: string,
): void {
  // The three lookups of mustBlockAtSite, without its result object (one per command of a batch).
  const d = mustDataset(b, cmd.dataset, where, "dataset");
  const block = mustBlock(b, d, cmd.block, where);
  const site = mustSite(b, cmd.site, where, "site");
  const dr = b.replica(d.id, site.id);
  if (!dr) {
    throw new InventoryValidationError(
      where,
      "site",
      `dataset ${JSON.stringify(d.name)} has no replica at this site; create the dataset replica first`,
    );
  }
  const groupId = cmd.group !== undefined ? mustGroupId(b, cmd.group, where, "group") : undefined;
  // Most block replicas come without files (complete): no arrays or maps for them.
  const files = cmd.files === undefined || cmd.files.length === 0 ? NO_FILES : cmd.files.map((lfn, i) => {
    const f = b.fileByLfn(lfn);
    if (!f || f.blockId !== block.id) {
      throw new InventoryValidationError(
        where,
        `files[${i}]`,
        `unknown file ${JSON.stringify(lfn)} in this block`,
      );
    }
    return f;
  });
  const old = b.blockReplica(dr, block.id);
  if (!old) {
    // Without a group the block replica takes the dataset replica's owner, which may be
    // the null group (unowned), as the original `dynamo-inject` relies on.
    const unique = files.length === 0 ? files : [...new Map(files.map((f) => [f.id, f])).values()];
    putBlockReplica(b, d, block, site.id, {
      groupId: groupId ?? dr.groupId,
      isCustodial: cmd.is_custodial ?? false,
      lastUpdate: cmd.last_update ?? b.now,
      fileIds: cmd.files === undefined ? null : unique.length === 0 ? NO_FILE_IDS : unique.map((f) => f.id),
      size: cmd.files === undefined ? block.size : totalSize(unique),
    });
    return;
  }
  let fileIds = old.fileIds;
  let size = old.size;
  if (fileIds !== null && files.length > 0) {
    const have = new Set(fileIds);
    const gained = [...new Map(files.filter((f) => !have.has(f.id)).map((f) => [f.id, f])).values()];
    fileIds = [...fileIds, ...gained.map((f) => f.id)];
    size += totalSize(gained);
  }
  const next = {
    groupId: groupId ?? old.groupId,
    isCustodial: cmd.is_custodial ?? old.isCustodial,
    lastUpdate: cmd.last_update ?? (fileIds !== old.fileIds ? b.now : old.lastUpdate),
    fileIds,
    size,
  };
  if (
    next.groupId === old.groupId && next.isCustodial === old.isCustodial &&
    next.lastUpdate === old.lastUpdate &&
    next.fileIds === old.fileIds
  ) return;
  putBlockReplica(b, d, block, site.id, next);
}

function deleteBlockReplica(
  b: StateBuilder,
  cmd: Extract<InventoryCommand, { op: "block_replica.delete" }>,
  where: string,
): void {
  const { d, block, site } = mustBlockAtSite(b, cmd, where);
  const dr = b.replica(d.id, site.id);
  if (!dr || !b.blockReplica(dr, block.id)) throw new InventoryValidationError(where, null, "does not exist");
  removeBlockReplicaCascading(b, d.id, site.id, block.id);
}

/** Removing the last block replica removes the (now empty) dataset replica too. */
function removeBlockReplicaCascading(
  b: StateBuilder,
  datasetId: number,
  siteId: number,
  blockId: number,
): void {
  b.setBlockReplica(datasetId, siteId, blockId, undefined);
  const dr = b.replica(datasetId, siteId)!;
  if (dr.columns.length === 0) {
    b.putDatasetReplicaFields(datasetId, siteId, { growing: false, groupId: dr.groupId });
    b.removeDatasetReplica(datasetId, siteId);
  }
}

const NO_FILES: readonly FileRecord[] = Object.freeze([]);
const NO_FILE_IDS: readonly number[] = Object.freeze([]);

/** The bytes of `files`: a loop, no closure per call (one per block replica command of a batch). */
function totalSize(files: readonly { readonly size: number }[]): number {
  let size = 0;
  for (let i = 0; i < files.length; i++) size += files[i]!.size;
  return size;
}

type BlockReplicaFields = Pick<BlockReplica, "groupId" | "isCustodial" | "lastUpdate" | "fileIds" | "size">;

/**
 * Writes a block replica with its partition membership computed, collapsing an
 * explicit file list to "complete" when it covers the whole block.
 */
function putBlockReplica(
  b: StateBuilder,
  d: Dataset,
  block: Block,
  siteId: number,
  fields: BlockReplicaFields,
  options?: { persist?: boolean },
): void {
  let { fileIds, size } = fields;
  if (fileIds !== null && fileIds.length === block.numFiles && size === block.size) {
    fileIds = null;
  }
  if (fileIds === null) size = block.size;
  // One record, its membership filled in once the conditions have seen the rest: the state keeps
  // its fields in columns (setBlockReplica copies them), never the record.
  const br: { -readonly [K in keyof BlockReplica]: BlockReplica[K] } = {
    blockId: block.id,
    siteId,
    groupId: fields.groupId,
    isCustodial: fields.isCustodial,
    size,
    lastUpdate: fields.lastUpdate,
    // A frozen array cannot change under the state: kept as it is (NO_FILE_IDS, a stored replica's).
    fileIds: fileIds === null ? null : Object.isFrozen(fileIds) ? fileIds : Object.freeze([...fileIds]),
    partitions: 0,
  };
  const site = b.site(siteId)!;
  const group = b.group(br.groupId)!;
  br.partitions = b.partitions.siteOwnerMembership(site, group) ?? b.partitions.membership({
    blockReplica: br,
    block,
    dataset: d,
    datasetReplica: b.replica(d.id, siteId),
    site,
    group,
  });
  b.setBlockReplica(d.id, siteId, block.id, br, options);
}

/** Recomputes partition membership of a dataset's block replicas (at one site or all). */
function refreshMembership(b: StateBuilder, datasetId: number, siteId?: number): void {
  const d = b.dataset(datasetId)!;
  for (const dr of [...b.replicasOf(datasetId)] as DatasetReplica[]) {
    if (siteId !== undefined && dr.siteId !== siteId) continue;
    for (const br of [...dr.blockReplicas]) {
      putBlockReplica(b, d, b.block(br.blockId)!, dr.siteId, br, { persist: false });
    }
  }
}

function sameFields<T extends object>(a: T, b: T): boolean {
  for (const key of Object.keys(a) as (keyof T)[]) {
    if (a[key] !== b[key]) return false;
  }
  return true;
}
