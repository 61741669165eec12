import type { FileRecord } from "./records.ts";

/**
 * Files are not held in memory (docs/architecture.md). Before reducing a batch, the
 * inventory actor prefetches from the database what the batch's commands will
 * ask about; the reducer reads it through this synchronous interface. The same
 * data goes into the journal (the annex) so that replaying the journal needs
 * no database.
 */
export interface FileCatalog {
  /** A file that existed before the batch, by LFN. */
  file(lfn: string): FileRecord | undefined;
  /**
   * Ids of all files of a block as they were before the batch, or undefined if
   * they were not prefetched.
   */
  blockFileIds(blockId: number): readonly number[] | undefined;
}

/** What was prefetched for a batch, in a JSON-safe form. */
export interface FileAnnex {
  files: FileRecord[];
  blockFiles: [blockId: number, fileIds: number[]][];
}

export const EMPTY_ANNEX: FileAnnex = { files: [], blockFiles: [] };

export function catalogFromAnnex(annex: FileAnnex): FileCatalog {
  const byLfn = new Map(annex.files.map((f) => [f.lfn, f]));
  const blocks = new Map(annex.blockFiles);
  return {
    file: (lfn) => byLfn.get(lfn),
    blockFileIds: (id) => blocks.get(id),
  };
}

/** What a batch needs prefetched. */
export interface FileNeeds {
  lfns: Set<string>;
  blockIds: Set<number>;
}
