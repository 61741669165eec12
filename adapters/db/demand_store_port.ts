/** Job records (demand) in the database. */
import type { JobRecord } from "../../registry/requests/job_record.ts";

export interface DemandStore {
  recordJobs(records: readonly JobRecord[]): Promise<number>;
  jobsSince(seconds: number): Promise<JobRecord[]>;
}
