/** Copy and deletion requests in the database (the Dealer, the request tracker and their routes). */
import type { CopyRequest, CopySubmission } from "../../registry/requests/copy_request.ts";
import type { DeletionRequest, DeletionSubmission } from "../../registry/requests/deletion_request.ts";

export interface RequestFilter {
  ids?: number[];
  user?: string;
  /** Requests naming this item (exact) … */
  item?: string;
  /** … or this site (exact, or a pattern the request listed). */
  site?: string;
  statuses?: string[];
  /** Without it, only the latest request for an item and site. */
  all?: boolean;
  limit?: number;
}

export type Created<T> = { request: T; created: boolean };

export interface RequestStore {
  /** Creates a copy request, or re-touches the caller's identical open one (group and n updatable while new). */
  submitCopy(user: string, s: CopySubmission, nowMs: number): Promise<Created<CopyRequest>>;
  submitDeletion(user: string, s: DeletionSubmission, nowMs: number): Promise<Created<DeletionRequest>>;
  openCopyRequests(): Promise<CopyRequest[]>;
  openDeletionRequests(): Promise<DeletionRequest[]>;
  /**
   * Writes requests the Dealer or tracker changed, each only if nobody changed it since it was read
   * (its `updatedAt` as read is passed along); returns how many were written.
   */
  saveCopyRequests(changes: readonly { before: CopyRequest; after: CopyRequest }[]): Promise<number>;
  saveDeletionRequests(
    changes: readonly { before: DeletionRequest; after: DeletionRequest }[],
  ): Promise<number>;
  copyRequests(filter: RequestFilter): Promise<CopyRequest[]>;
  deletionRequests(filter: RequestFilter): Promise<DeletionRequest[]>;
  /** Cancels a copy request while it is new; `user` null = an administrator. */
  cancelCopy(id: number, user: string | null, nowMs: number): Promise<CopyRequest | string>;
}
