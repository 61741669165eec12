/** Dataset access records (popularity) in the database. */
import type { AccessRecord } from "../../registry/requests/access_record.ts";

export interface AccessStore {
  /** Adds or replaces (dataset, site, day) records; returns how many. */
  recordAccesses(records: readonly AccessRecord[]): Promise<number>;
  accessesSince(day: number): Promise<AccessRecord[]>;
}
