import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * Per-directory digests of a site's last complete consistency run (spec §6):
 * for each listed directory, a digest of its listed files (name and size) and
 * one of the inventory's files mapped there, and whether it was clean (no
 * young file, no deletion or copy under way, listed once). A re-run skips the
 * comparison of a directory whose digests are unchanged and carries over the
 * run's findings there. The settings the comparison depends on are stored
 * with the run as a fingerprint: other settings, no skipping. Only the latest
 * complete run of a site keeps its digests.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    ALTER TABLE consistency_runs ADD COLUMN config_fingerprint text;
    ALTER TABLE consistency_runs ADD COLUMN dirs_skipped bigint NOT NULL DEFAULT 0;
    CREATE TABLE consistency_digests (
      run_id bigint NOT NULL, dir text NOT NULL, listed text NOT NULL, inventory text NOT NULL,
      clean boolean NOT NULL
    );
    CREATE INDEX consistency_digests_run ON consistency_digests (run_id);
  `,
  );
}
