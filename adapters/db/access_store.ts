import type { AccessRecord } from "../../registry/requests/access_record.ts";
import type { Database } from "./database.ts";
import type { AccessStore } from "./access_store_port.ts";

export class SqlAccessStore implements AccessStore {
  constructor(private readonly db: Database) {}

  async recordAccesses(records: readonly AccessRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    // The last record for a (dataset, site, day) wins, as a re-import replaces a day.
    const byKey = new Map(records.map((r) => [`${r.dataset}\u0000${r.site}\u0000${r.day}`, r]));
    const rows = [...byKey.values()];
    await this.db.bulkTransaction(async (tx) => {
      for (let i = 0; i < rows.length; i += 10_000) {
        const chunk = rows.slice(i, i + 10_000);
        await tx.query(
          `INSERT INTO dataset_accesses (dataset, site, day, accesses)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[])
           ON CONFLICT (dataset, site, day) DO UPDATE SET accesses = EXCLUDED.accesses`,
          [
            chunk.map((r) => r.dataset),
            chunk.map((r) => r.site),
            chunk.map((r) => r.day),
            chunk.map((r) => r.accesses),
          ],
        );
      }
    });
    return rows.length;
  }

  async accessesSince(day: number): Promise<AccessRecord[]> {
    const rows = await this.db.queryArrays(
      "SELECT dataset, site, day, accesses FROM dataset_accesses WHERE day >= $1",
      [day],
    );
    return rows.map(([dataset, site, d, accesses]) => ({
      dataset: dataset as string,
      site: site as string,
      day: d as number,
      accesses: accesses as number,
    }));
  }
}
