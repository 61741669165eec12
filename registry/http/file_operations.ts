/**
 * What the file-operations routes need (implemented in service/ over the
 * file-operations store and agent). The routes shape the JSON
 * (routes/fileops.ts: snake_case, times in Unix seconds).
 */
export type JsonRow = Record<string, string | number | boolean | null>;

/** A file's copy or deletion (a subscription). */
export type FileOperationRow = {
  id: number;
  kind: string;
  lfn: string;
  dataset: string;
  block: string;
  size: number;
  source: string | null;
  site: string;
  status: string;
  taskState: string | null;
  holdReason: string | null;
  attempts: number;
};

/** With the last failure's message. */
export type FileOperationDetail = FileOperationRow & { lastError: string | null };

export type TransferRow = {
  id: number;
  lfn: string;
  source: string;
  destination: string;
  size: number;
  exitCode: number;
  code: string | null;
  message: string | null;
  startedMs: number;
  finishedMs: number;
};

export type DeletionRow = {
  id: number;
  lfn: string;
  site: string;
  size: number;
  exitCode: number;
  code: string | null;
  message: string | null;
  startedMs: number;
  finishedMs: number;
};

/** Held subscriptions of a site, kind and reason. */
export type HeldCountRow = { site: string; kind: string; reason: string; files: number; bytes: number };

export interface FileOperations {
  current(limit: number): Promise<FileOperationRow[]>;
  transferHistory(limit: number, sinceSeconds: number): Promise<TransferRow[]>;
  deletionHistory(limit: number, sinceSeconds: number): Promise<DeletionRow[]>;
  heldSummary(): Promise<HeldCountRow[]>;
  heldDetail(limit: number): Promise<FileOperationDetail[]>;
  /** The file operations of a dataset at a site (what a request waits for), with their last error. */
  files(
    filter: { dataset: string; site: string; kind?: "copy" | "deletion"; offset: number; limit: number },
  ): Promise<FileOperationDetail[]>;
  /** Held subscriptions back to new; returns how many. */
  release(ids: number[] | "all"): Promise<number>;
  /** One pass now (subscribe, plan, transfer, delete, update the inventory). */
  run(): Promise<JsonRow | { error: string }>;
  /**
   * The PFN of an LFN at a site; throws LfnError for an unknown site or an unmappable LFN.
   * `protocol`: use the site's mapping chains of that protocol where it has some.
   */
  lfn2pfn(site: string, lfn: string, protocol?: string): Promise<string>;
}

export class LfnError extends Error {
  constructor(readonly param: "site" | "lfn", message: string) {
    super(message);
    this.name = "LfnError";
  }
}
