/**
 * Prometheus text for what the agents did, read from the history tables:
 * Detox and Dealer cycles (count, seconds, decisions, bytes), file transfers
 * and deletions (files and bytes, failures by error class), and scheduler
 * application runs by status. Cycle and run tables have one row per cycle or
 * run, so they are aggregated whole; the file tables grow by millions of rows,
 * so their totals are kept here and each scrape reads only the rows that are
 * new since the last one (by id).
 */
import type { Database } from "./database.ts";

interface FileTotals {
  lastId: number;
  /** error class ("ok" for success) → [files, bytes] */
  byClass: Map<string, [number, number]>;
}

export class SqlActivityMetrics {
  readonly #transfers: FileTotals = { lastId: 0, byClass: new Map() };
  readonly #deletions: FileTotals = { lastId: 0, byClass: new Map() };

  constructor(private readonly db: Database) {}

  async render(): Promise<string> {
    const out: string[] = [];
    const family = (name: string, type: string, help: string, samples: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) out.push(`${name}${labels} ${v}`);
    };
    const rows = (sql: string) => this.db.queryArrays(sql);
    const detox = await rows(
      `SELECT mode, status, count(*), coalesce(sum(ended_ms - started_ms), 0), coalesce(sum(evaluations), 0),
              coalesce(sum(deleted_bytes), 0)
       FROM detox_cycles GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const label = (r: unknown[]) => `{mode="${r[0]}",status="${r[1]}"}`;
    family(
      "dynamo_detox_cycles_total",
      "counter",
      "Detox cycles by mode and outcome.",
      detox.map((r) => [label(r), Number(r[2])]),
    );
    family(
      "dynamo_detox_cycle_seconds_total",
      "counter",
      "Time spent in Detox cycles.",
      detox.map((r) => [label(r), Number(r[3]) / 1000]),
    );
    family(
      "dynamo_detox_decisions_total",
      "counter",
      "Replica evaluations made by Detox cycles.",
      detox.map((r) => [label(r), Number(r[4])]),
    );
    family(
      "dynamo_detox_deleted_bytes_total",
      "counter",
      "Bytes Detox decided to delete.",
      detox.map((r) => [label(r), Number(r[5])]),
    );
    const dealer = await rows(
      `SELECT mode, status, count(*), coalesce(sum(ended_ms - started_ms), 0), coalesce(sum(accepted), 0),
              coalesce(sum(rejected), 0), coalesce(sum(bytes), 0)
       FROM dealer_cycles GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    family(
      "dynamo_dealer_cycles_total",
      "counter",
      "Dealer cycles by mode and outcome.",
      dealer.map((r) => [label(r), Number(r[2])]),
    );
    family(
      "dynamo_dealer_cycle_seconds_total",
      "counter",
      "Time spent in Dealer cycles.",
      dealer.map((r) => [label(r), Number(r[3]) / 1000]),
    );
    family("dynamo_dealer_decisions_total", "counter", "Dealer proposals by fate.", [
      ...dealer.map((
        r,
      ): [string, number] => [`{mode="${r[0]}",status="${r[1]}",fate="accepted"}`, Number(r[4])]),
      ...dealer.map((
        r,
      ): [string, number] => [`{mode="${r[0]}",status="${r[1]}",fate="rejected"}`, Number(r[5])]),
    ]);
    family(
      "dynamo_dealer_scheduled_bytes_total",
      "counter",
      "Bytes of copies the Dealer scheduled.",
      dealer.map((r) => [label(r), Number(r[6])]),
    );
    await this.#advance("file_transfers", this.#transfers);
    await this.#advance("file_deletions", this.#deletions);
    for (const [kind, totals] of [["transfer", this.#transfers], ["deletion", this.#deletions]] as const) {
      const classes = [...totals.byClass].sort(([a], [b]) => (a < b ? -1 : 1));
      family(
        `dynamo_file_${kind}s_total`,
        "counter",
        `Finished file ${kind}s by result ("ok" or the error class).`,
        classes.map(([c, [files]]) => [`{result="${c}"}`, files]),
      );
      family(
        `dynamo_file_${kind}_bytes_total`,
        "counter",
        `Bytes of finished file ${kind}s by result.`,
        classes.map(([c, [, bytes]]) => [`{result="${c}"}`, bytes]),
      );
    }
    const apps = await rows("SELECT title, status, count(*) FROM applications GROUP BY 1, 2 ORDER BY 1, 2");
    family(
      "dynamo_application_runs_total",
      "counter",
      "Scheduler application runs by application and status.",
      apps.map((r) => [`{application="${r[0]}",status="${r[1]}"}`, Number(r[2])]),
    );
    return out.join("\n") + "\n";
  }

  async #advance(table: "file_transfers" | "file_deletions", totals: FileTotals): Promise<void> {
    const rows = await this.db.queryArrays(
      `SELECT CASE WHEN exit_code = 0 THEN 'ok' ELSE coalesce(code, 'unknown') END, count(*), coalesce(sum(size), 0),
              max(id)
       FROM ${table} WHERE id > $1 GROUP BY 1`,
      [totals.lastId],
    );
    for (const [result, files, bytes, maxId] of rows) {
      const key = String(result);
      const [f, b] = totals.byClass.get(key) ?? [0, 0];
      totals.byClass.set(key, [f + Number(files), b + Number(bytes)]);
      totals.lastId = Math.max(totals.lastId, Number(maxId));
    }
  }
}
