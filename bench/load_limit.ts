/**
 * The limit of the inventory load (`inventory.load_limit_seconds`): the same rows
 * the load reads, in the same pages, through the same driver, doing nothing
 * with them. Shared by `bench.ts` and `load.ts` so the two measure one thing.
 */
import type { Database } from "../adapters/db/database.ts";

/** The tables the load reads, their keys and columns, in load order. */
export const LOADED_TABLES = [
  ["groups", ["id"], "id, name, olevel"],
  ["sites", ["id"], "id, name, host, storage_type, backend, status, filename_mappings"],
  ["datasets", ["id"], "id, name, status, data_type, software_version, last_update, is_open"],
  ["blocks", ["id"], "id, dataset_id, name, size, num_files, is_open, last_update"],
  ["dataset_replicas", ["dataset_id", "site_id"], "dataset_id, site_id, growing, group_id"],
  [
    "block_replicas",
    ["block_id", "site_id"],
    "block_id, site_id, group_id, is_custodial, size, last_update, file_ids",
  ],
] as const;

/** Reads every loaded row with keyset-paged SELECTs of 50,000 rows; returns the row count. */
export async function bareSelect(db: Database): Promise<number> {
  let bare = 0;
  for (const [table, keys, columns] of LOADED_TABLES) {
    let last: unknown[] | null = null;
    for (;;) {
      const where = last
        ? `WHERE (${keys.join(", ")}) > (${keys.map((_, i) => `$${i + 1}`).join(", ")})`
        : "";
      const rows: unknown[][] = await db.queryArrays(
        `SELECT ${columns} FROM ${table} ${where} ORDER BY ${keys.join(", ")} LIMIT 50000`,
        last ?? [],
      );
      bare += rows.length;
      if (rows.length < 50_000) break;
      last = rows[rows.length - 1]!.slice(0, keys.length);
    }
  }
  return bare;
}

/**
 * The same rows as `bareSelect`, one streamed SELECT per table (PostgreSQL): each
 * row parsed by the driver and dropped, as the streaming load reads them.
 */
export async function bareStream(db: Database): Promise<number> {
  if (!db.streamArrays) return await bareSelect(db);
  let bare = 0;
  for (const [table, keys, columns] of LOADED_TABLES) {
    await db.streamArrays(`SELECT ${columns} FROM ${table} ORDER BY ${keys.join(", ")}`, [], () => bare++);
  }
  return bare;
}
