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

/**
 * The streamed read by a fresh process (`inventory.load_cold_limit_seconds`): the bench's load is the
 * first in its process (its driver's row parsing and the loader not compiled yet, the heap growing
 * from nothing) while the limit read after it finds the driver compiled. This is the same read with
 * nothing compiled, for the ratio of a starting node's load to a starting reader's. PostgreSQL only
 * (in-memory PGlite cannot be reached from another process). Connecting is not timed.
 */
export async function coldBareStream(
  url: string,
  schema: string,
): Promise<{ seconds: number; cpuSeconds: number; rows: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `--config=${new URL("../deno.json", import.meta.url).pathname}`,
      new URL(import.meta.url).pathname,
      "--database-url",
      url,
      "--schema",
      schema,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`the cold limit's process failed (exit code ${out.code})`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { default: process } = await import("node:process");
  const { openDatabase } = await import("../adapters/db/database.ts");
  const { values } = parseArgs({
    args: Deno.args,
    options: { "database-url": { type: "string" }, schema: { type: "string" } },
  });
  if (!values["database-url"] || !values.schema) {
    throw new TypeError("usage: load_limit.ts --database-url postgres://… --schema NAME");
  }
  const db = await openDatabase({ url: values["database-url"], schema: values.schema });
  await db.queryArrays("SELECT 1"); // connected before the clock starts
  const cpu = process.cpuUsage();
  const t = performance.now();
  const rows = await bareStream(db);
  const seconds = (performance.now() - t) / 1000;
  const d = process.cpuUsage(cpu);
  await db.close();
  console.log(JSON.stringify({ seconds, cpuSeconds: (d.user + d.system) / 1e6, rows }));
}
