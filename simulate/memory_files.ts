/**
 * The files table the reducer reads and changes, kept in memory: the
 * simulator's stand-in for the database (no files, no database).
 */
import type { FileCatalog, FileNeeds, FileRecord, InventoryChanges } from "../registry/inventory/mod.ts";

export class SimFiles {
  readonly #byLfn = new Map<string, FileRecord>();
  readonly #byBlock = new Map<number, Set<number>>();
  readonly #byId = new Map<number, FileRecord>();

  catalog(_needs: FileNeeds): FileCatalog {
    return {
      file: (lfn) => this.#byLfn.get(lfn),
      blockFileIds: (blockId) => [...(this.#byBlock.get(blockId) ?? [])],
    };
  }

  lfnsOfBlock(blockId: number): string[] {
    return [...(this.#byBlock.get(blockId) ?? [])].map((id) => this.#byId.get(id)!.lfn);
  }

  apply(changes: InventoryChanges): void {
    for (const blockId of changes.purgedBlockIds) {
      for (const id of this.#byBlock.get(blockId) ?? []) this.#remove(this.#byId.get(id)!);
    }
    for (const id of changes.deletedFileIds) {
      const f = this.#byId.get(id);
      if (f) this.#remove(f);
    }
    for (const f of changes.newFiles.values()) {
      this.#byLfn.set(f.lfn, f);
      this.#byId.set(f.id, f);
      if (!this.#byBlock.has(f.blockId)) this.#byBlock.set(f.blockId, new Set());
      this.#byBlock.get(f.blockId)!.add(f.id);
    }
  }

  #remove(f: FileRecord): void {
    this.#byId.delete(f.id);
    this.#byLfn.delete(f.lfn);
    this.#byBlock.get(f.blockId)?.delete(f.id);
  }
}
