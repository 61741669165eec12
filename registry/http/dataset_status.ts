/**
 * What `/data/dataset/status` needs (implemented in service/ by asking the
 * dataset's actor): one dataset's pending file operations with their last
 * error, and the open requests naming it.
 */
import type { CopyRequest } from "../requests/copy_request.ts";
import type { DeletionRequest } from "../requests/deletion_request.ts";
import type { FileOperationDetail } from "./file_operations.ts";

export interface DatasetWorkView {
  dataset: string;
  files: FileOperationDetail[];
  truncated: boolean;
  copyRequests: readonly CopyRequest[];
  deletionRequests: readonly DeletionRequest[];
}

export interface DatasetStatusSource {
  /** Rejects with UnavailableError-like errors when the actors do not answer. */
  status(dataset: string): Promise<DatasetWorkView>;
}
