/**
 * The demo's summary: what Dynamo did over the run (read back from its own
 * history tables) and the invariants, as one JSON object, and as text with a
 * terminal chart of every disk site's occupancy against its watermarks.
 */
import type { Database } from "../adapters/db/database.ts";
import type { DemoEvents } from "./demo_federation.ts";
import type { Invariants } from "./invariants.ts";
import type { DemoSite } from "./workload.ts";

/** The demo policy's high watermark (examples/demo/detox/Physics.txt). */
export const HIGH_WATERMARK = 0.9;

export interface SiteSummary {
  name: string;
  storage_type: "disk" | "mss";
  quota: number;
  reliability: number;
  occupancy_end: number | null;
  max_occupancy: number | null;
  /** Hourly occupancy of the AnalysisOps partition (disk sites). */
  occupancy: number[];
}

export interface DemoSummary {
  seed: number;
  days: number;
  sites: SiteSummary[];
  datasets_produced: number;
  bytes_copied: number;
  bytes_deleted: number;
  files_copied: number;
  files_deleted: number;
  transfers_failed: number;
  transfer_failures_by_class: Record<string, number>;
  copy_operations: number;
  deletion_operations: number;
  requests_made: number;
  requests_completed: number;
  /** Hours from a copy request to its end (completed or refused), and how many are still open or waiting. */
  request_wait_hours: { mean: number; max: number; open: number };
  /** Refused by the Dealer with the reason: nothing matches, or not placed within request_wait. */
  requests_rejected: number;
  detox_cycles: number;
  dealer_cycles: number;
  /** Highest occupancy any disk site had when a Detox cycle ended (sites in morgue excluded). */
  max_occupancy_after_detox: number;
  /** Cycle-site pairs left above the high watermark while deletable replicas remained there. */
  over_watermark_unforced: number;
  restarts_recovered: number;
  events: DemoEvents;
  last_copies_lost: number;
  /** Each hour a disk site ended above 100 % of its quota, and why: production Dynamo does not control, or Dynamo. */
  over_quota: OverQuota[];
  files_checked: number;
  files_missing_at_end: number;
  checksum_mismatches_at_end: number;
  /** The consistency checks of the two sites that lost files and gained orphans: what each run found and did. */
  consistency: {
    site: string;
    missing: number;
    orphan: number;
    corrupt: number;
    acted: number;
    flagged: boolean;
  }[];
  problems: string[];
}

export interface OverQuota {
  site: string;
  hour: number;
  occupancy: number;
  cause: string;
}

/** What production wrote at a disk site in an hour (Dynamo does not control it). */
export interface ProductionWrite {
  site: string;
  hour: number;
  dataset: string;
}

export interface SummaryInput {
  db: Database;
  sites: readonly DemoSite[];
  samples: ReadonlyMap<string, number[]>;
  events: DemoEvents;
  invariants: Invariants;
  requestsMade: number;
  restarts: ReadonlyMap<string, number>;
  datasetsProduced: number;
  production?: readonly ProductionWrite[];
  seed: number;
  days: number;
  /** What the consistency checks answered (REST JSON). */
  consistencyRuns?: Record<string, unknown>[];
}

export async function summarize(input: SummaryInput): Promise<DemoSummary> {
  const { db } = input;
  const one = async (sql: string) => ((await db.queryArrays(sql))[0] ?? []).map((v) => Number(v ?? 0));
  const [filesCopied, bytesCopied] = await one(
    "SELECT count(*), coalesce(sum(size), 0) FROM file_transfers WHERE exit_code = 0",
  );
  const [filesDeleted, bytesDeleted] = await one(
    "SELECT count(*), coalesce(sum(size), 0) FROM file_deletions WHERE exit_code = 0",
  );
  const failures = await db.queryArrays(
    "SELECT coalesce(code, 'unknown'), count(*) FROM file_transfers WHERE exit_code <> 0 GROUP BY 1 ORDER BY 1",
  );
  const [copies, deletions] = await one(
    "SELECT count(*) FILTER (WHERE kind = 'copy'), count(*) FILTER (WHERE kind = 'deletion') FROM replica_operations",
  );
  const [completed, rejected] = await one(
    "SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'rejected') FROM copy_requests",
  );
  const [waitMean, waitMax, open] = await one(
    `SELECT coalesce(avg(updated_ms - created_ms) FILTER (WHERE status NOT IN ('new', 'activated')), 0) / 3.6e6,
            coalesce(max(updated_ms - created_ms) FILTER (WHERE status NOT IN ('new', 'activated')), 0) / 3.6e6,
            count(*) FILTER (WHERE status IN ('new', 'activated')) FROM copy_requests`,
  );
  const [detoxCycles] = await one("SELECT count(*) FROM detox_cycles WHERE mode = 'normal'");
  const [dealerCycles] = await one("SELECT count(*) FROM dealer_cycles");
  const afterDetox = await db.queryArrays(
    `SELECT s.used_after, s.quota, s.kept_bytes FROM detox_sites s JOIN detox_cycles c ON c.id = s.cycle_id
     WHERE c.mode = 'normal' AND s.status <> 'morgue' AND s.quota > 0`,
  );
  let maxAfter = 0;
  let unforced = 0;
  for (const [used, quota, kept] of afterDetox) {
    const occupancy = Number(used) / Number(quota);
    maxAfter = Math.max(maxAfter, occupancy);
    if (occupancy > HIGH_WATERMARK && Number(kept) > 0) unforced++;
  }
  const byClass: Record<string, number> = {};
  for (const [code, n] of failures) byClass[String(code)] = Number(n);
  return {
    seed: input.seed,
    days: input.days,
    sites: input.sites.map((s) => {
      const occupancy = input.samples.get(s.name) ?? [];
      return {
        name: s.name,
        storage_type: s.type,
        quota: s.quota,
        reliability: s.reliability,
        occupancy_end: occupancy.length ? round(occupancy.at(-1)!) : null,
        max_occupancy: occupancy.length ? round(Math.max(...occupancy)) : null,
        occupancy: occupancy.map(round),
      };
    }),
    datasets_produced: input.datasetsProduced,
    bytes_copied: bytesCopied!,
    bytes_deleted: bytesDeleted!,
    files_copied: filesCopied!,
    files_deleted: filesDeleted!,
    transfers_failed: Object.values(byClass).reduce((a, b) => a + b, 0),
    transfer_failures_by_class: byClass,
    copy_operations: copies!,
    deletion_operations: deletions!,
    requests_made: input.requestsMade,
    requests_completed: completed!,
    request_wait_hours: { mean: round(waitMean!), max: round(waitMax!), open: open! },
    requests_rejected: rejected!,
    detox_cycles: detoxCycles!,
    dealer_cycles: dealerCycles!,
    max_occupancy_after_detox: round(maxAfter),
    over_watermark_unforced: unforced,
    restarts_recovered: [...input.restarts.values()].reduce((a, b) => a + b, 0),
    events: input.events,
    last_copies_lost: input.invariants.last_copies_lost,
    over_quota: overQuota(input.samples, input.production ?? []),
    files_checked: input.invariants.files_checked,
    files_missing_at_end: input.invariants.files_missing_at_end,
    checksum_mismatches_at_end: input.invariants.checksum_mismatches_at_end,
    consistency: (input.consistencyRuns ?? []).map((r) => ({
      site: String(r.site),
      missing: Number(r.missing),
      orphan: Number(r.orphan),
      corrupt: Number(r.corrupt),
      acted: Number(r.acted),
      flagged: Boolean(r.flagged),
    })),
    problems: input.invariants.problems,
  };
}

/** Hours a site rose above its quota, with the cause: what production wrote there that hour, or Dynamo. */
export function overQuota(
  samples: ReadonlyMap<string, readonly number[]>,
  production: readonly ProductionWrite[],
): OverQuota[] {
  const out: OverQuota[] = [];
  for (const [site, values] of samples) {
    values.forEach((v, hour) => {
      const before = hour > 0 ? values[hour - 1]! : 0;
      if (v <= 1 || before > 1 && v <= before) return; // only the hours it went (further) above
      const wrote = production.filter((p) => p.site === site && p.hour === hour).map((p) => p.dataset);
      const cause = wrote.length > 0 ? `production wrote ${wrote.join(", ")}` : "Dynamo";
      out.push({ site, hour, occupancy: round(v), cause });
    });
  }
  return out;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

const BARS = " ▁▂▃▄▅▆▇█";

/** One character per bucket of hours: the bucket's highest occupancy, '!' above the high watermark. */
export function sparkline(values: readonly number[], width: number): string {
  if (values.length === 0) return "";
  const buckets = Math.min(width, values.length);
  let line = "";
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * values.length) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * values.length) / buckets));
    const peak = Math.max(...values.slice(from, to));
    line += peak > HIGH_WATERMARK ? "!" : BARS[Math.min(8, Math.round((peak / HIGH_WATERMARK) * 8))];
  }
  return line;
}

const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The summary as lines for a terminal. */
export function renderSummary(s: DemoSummary, width = 72): string[] {
  const disk = s.sites.filter((x) => x.storage_type === "disk");
  const nameWidth = Math.max(...disk.map((x) => x.name.length));
  const ok = (n: number) => (n === 0 ? "OK" : "VIOLATED");
  return [
    `Dynamo demo: ${s.days} day(s), seed ${s.seed}`,
    "",
    `Occupancy of each disk site over time (full bar = high watermark ${HIGH_WATERMARK * 100} %, ! above it)`,
    ...disk.map((x) =>
      `  ${x.name.padEnd(nameWidth)} |${
        sparkline(x.occupancy, width).padEnd(Math.min(width, x.occupancy.length))
      }| ` +
      `end ${pct(x.occupancy_end)}, max ${pct(x.max_occupancy)}${
        x.name === s.events.morgue.site ? " (morgue)" : ""
      }`
    ),
    "",
    `Datasets produced     ${s.datasets_produced}`,
    `Copied                ${
      MB(s.bytes_copied)
    } in ${s.files_copied} files (${s.copy_operations} replica copies)`,
    `Deleted               ${
      MB(s.bytes_deleted)
    } in ${s.files_deleted} files (${s.deletion_operations} replica deletions)`,
    `Transfers failed      ${s.transfers_failed} (${
      Object.entries(s.transfer_failures_by_class).map(([k, v]) => `${k} ${v}`).join(", ") || "none"
    }), all retried`,
    `Requests              ${s.requests_completed} of ${s.requests_made} copy requests completed, ${s.requests_rejected} refused ` +
    "(not placed within request_wait; request poll shows why)",
    `Requests waited       ${s.request_wait_hours.mean} h on average until done or refused, at most ` +
    `${s.request_wait_hours.max} h; ${s.request_wait_hours.open} still open or waiting`,
    `Over quota            ${
      s.over_quota.length === 0
        ? "never"
        : s.over_quota.map((o) => `${o.site} ${pct(o.occupancy)} at hour ${o.hour}: ${o.cause}`).join("; ")
    }`,
    `Cycles                ${s.detox_cycles} Detox, ${s.dealer_cycles} Dealer`,
    `Crashes recovered     ${s.restarts_recovered} (${s.events.crash.actor} killed at hour ${s.events.crash.hour})`,
    `Events                ${s.events.morgue.site} to morgue at hour ${s.events.morgue.hour}; ${s.events.outage.site} down ` +
    `hours ${s.events.outage.from}–${s.events.outage.to}`,
    `Consistency           ${
      s.consistency.map((r) => `${r.site}: ${r.missing} missing, ${r.orphan} orphan, ${r.acted} fixed`).join(
        "; ",
      ) ||
      "no check"
    }`,
    "",
    "Invariants",
    `  no site above ${HIGH_WATERMARK * 100} % after Detox but for protected data   ${
      ok(s.over_watermark_unforced)
    } (highest after a cycle: ${pct(s.max_occupancy_after_detox)}${
      s.max_occupancy_after_detox > HIGH_WATERMARK && s.over_watermark_unforced === 0
        ? ", where everything left was protected"
        : ""
    })`,
    `  no last copy lost                                       ${ok(s.last_copies_lost)}`,
    `  every file present with its checksum (${s.files_checked} checked)   ${
      ok(s.files_missing_at_end + s.checksum_mismatches_at_end)
    }`,
    ...s.problems.map((p) => `    ${p}`),
  ];
}

const pct = (x: number | null) => (x === null ? "-" : `${(x * 100).toFixed(1)} %`);
