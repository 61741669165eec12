/**
 * What the file-operations routes need (implemented by the composition root
 * over the file-operations store and agent). Rows are already in their JSON
 * shape: snake_case, times in Unix seconds.
 */
export type JsonRow = Record<string, string | number | boolean | null>;

export interface FileOperations {
  current(limit: number): Promise<JsonRow[]>;
  transferHistory(limit: number, sinceSeconds: number): Promise<JsonRow[]>;
  deletionHistory(limit: number, sinceSeconds: number): Promise<JsonRow[]>;
  heldSummary(): Promise<JsonRow[]>;
  heldDetail(limit: number): Promise<JsonRow[]>;
  /** The file operations of a dataset at a site (what a request waits for), with their last error. */
  files(
    filter: { dataset: string; site: string; kind?: "copy" | "deletion"; offset: number; limit: number },
  ): Promise<JsonRow[]>;
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
