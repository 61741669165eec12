import type { JobRecord } from "../../registry/requests/job_record.ts";
import type { Database } from "./database.ts";
import type { DemandStore } from "./demand_store_port.ts";

export class SqlDemandStore implements DemandStore {
  constructor(private readonly db: Database) {}

  /** A (dataset, queued time) sent again replaces its job count, so re-imports are idempotent. */
  async recordJobs(records: readonly JobRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const rows = [...new Map(records.map((r) => [`${r.dataset}\u0000${r.queued}`, r])).values()];
    await this.db.bulkTransaction(async (tx) => {
      for (let i = 0; i < rows.length; i += 10_000) {
        const chunk = rows.slice(i, i + 10_000);
        await tx.query(
          `INSERT INTO job_demand (dataset, queued, jobs)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[])
           ON CONFLICT (dataset, queued) DO UPDATE SET jobs = EXCLUDED.jobs`,
          [chunk.map((r) => r.dataset), chunk.map((r) => r.queued), chunk.map((r) => r.jobs)],
        );
      }
    });
    return rows.length;
  }

  async jobsSince(seconds: number): Promise<JobRecord[]> {
    const rows = await this.db.queryArrays(
      "SELECT dataset, queued, jobs FROM job_demand WHERE queued >= $1",
      [seconds],
    );
    return rows.map(([dataset, queued, jobs]) => ({
      dataset: dataset as string,
      queued: queued as number,
      jobs: jobs as number,
    }));
  }
}
