/**
 * "Where is this dataset's work?" (issue 15): every pending copy and deletion
 * of one dataset, per site, with each file's state and last error, and the open
 * copy and deletion requests naming the dataset or one of its blocks. Read from
 * durable storage (the file-operations and request tables): this is what a
 * dataset actor rebuilds its state from on activation, and what it answers.
 */
import type { FileOpsStore, Subscription } from "../../adapters/db/fileops_store_port.ts";
import type { RequestStore } from "../../adapters/db/request_store_port.ts";
import type { CopyRequest } from "../../registry/requests/copy_request.ts";
import type { DeletionRequest } from "../../registry/requests/deletion_request.ts";

/** At most this many files are read for one dataset (the status says when there were more). */
export const DATASET_FILE_LIMIT = 100_000;

export interface DatasetWorkSources {
  fileops: Pick<FileOpsStore, "filesOf">;
  requests: Pick<RequestStore, "openCopyRequests" | "openDeletionRequests">;
}

export type DatasetFile = Subscription & { lastError: string | null };

export interface DatasetWork {
  dataset: string;
  files: DatasetFile[];
  /** More files than DATASET_FILE_LIMIT exist; `files` is the first part. */
  truncated: boolean;
  copyRequests: CopyRequest[];
  deletionRequests: DeletionRequest[];
}

export async function readDatasetWork(sources: DatasetWorkSources, dataset: string): Promise<DatasetWork> {
  const [files, copies, deletions] = await Promise.all([
    sources.fileops.filesOf({ dataset, offset: 0, limit: DATASET_FILE_LIMIT + 1 }),
    sources.requests.openCopyRequests(),
    sources.requests.openDeletionRequests(),
  ]);
  const names = (items: readonly string[]) => items.some((i) => i === dataset || i.startsWith(`${dataset}#`));
  return {
    dataset,
    files: files.slice(0, DATASET_FILE_LIMIT),
    truncated: files.length > DATASET_FILE_LIMIT,
    copyRequests: copies.filter((r) => names(r.items)),
    deletionRequests: deletions.filter((r) => names(r.items)),
  };
}
