import type { FileCatalog, FileNeeds, FileRecord, InventoryChanges } from "../../registry/inventory/mod.ts";

/**
 * Test double of the database's files table: remembers files across batches
 * by applying each batch's changes, so reducer tests can run without a DB.
 */
export class MemoryFiles {
  readonly byLfn = new Map<string, FileRecord>();
  readonly byId = new Map<number, FileRecord>();

  catalog(): FileCatalog {
    return {
      file: (lfn) => this.byLfn.get(lfn),
      blockFileIds: (blockId) =>
        [...this.byId.values()].filter((f) => f.blockId === blockId).map((f) => f.id),
    };
  }

  /** A catalog that answers only what was asked for, like the real prefetch. */
  prefetched(needs: FileNeeds): FileCatalog {
    const all = this.catalog();
    return {
      file: (lfn) => (needs.lfns.has(lfn) ? all.file(lfn) : undefined),
      blockFileIds: (id) => (needs.blockIds.has(id) ? all.blockFileIds(id) : undefined),
    };
  }

  apply(changes: InventoryChanges): void {
    for (const blockId of changes.purgedBlockIds) {
      for (const f of [...this.byId.values()]) if (f.blockId === blockId) this.#remove(f);
    }
    for (const id of changes.deletedFileIds) {
      const f = this.byId.get(id);
      if (f) this.#remove(f);
    }
    for (const f of changes.newFiles.values()) {
      this.byLfn.set(f.lfn, f);
      this.byId.set(f.id, f);
    }
  }

  #remove(f: FileRecord): void {
    this.byId.delete(f.id);
    this.byLfn.delete(f.lfn);
  }
}
