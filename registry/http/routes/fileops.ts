import type { Context, Hono } from "hono";
import { type AppEnv, ok, requireRole } from "../context.ts";
import { BadRequest, HttpError } from "../errors.ts";
import {
  type DeletionRow,
  type FileOperationDetail,
  type FileOperationRow,
  type FileOperations,
  type JsonRow,
  LfnError,
  type TransferRow,
} from "../file_operations.ts";
import { collectParams, parseParams } from "../params.ts";
import {
  type FinishedOperation,
  historyGraph,
  type HistoryGraphParams,
  historyGraphQuery,
} from "../history_graph.ts";
import { globParam } from "../param_patterns.ts";
import { currentRow, heldBySite, heldDetailRow, HOLD_REASONS } from "../fileops_compat.ts";
import type { InventoryAccess } from "../inventory_access.ts";

const seconds = (ms: number) => Math.floor(ms / 1000);

/** A subscription in its JSON shape. */
export function subscriptionJson(s: FileOperationRow): JsonRow {
  return {
    id: s.id,
    kind: s.kind,
    lfn: s.lfn,
    dataset: s.dataset,
    block: s.block,
    size: s.size,
    source: s.source,
    site: s.site,
    status: s.status,
    task_state: s.taskState,
    hold_reason: s.holdReason,
    attempts: s.attempts,
  };
}

/** With the last failure's message (held files, a dataset's files at a site). */
export function subscriptionDetailJson(s: FileOperationDetail): JsonRow {
  return { ...subscriptionJson(s), last_error: s.lastError };
}

function transferJson(r: TransferRow): JsonRow {
  return {
    id: r.id,
    lfn: r.lfn,
    source: r.source,
    destination: r.destination,
    size: r.size,
    exit_code: r.exitCode,
    error: r.code,
    message: r.message,
    started: seconds(r.startedMs),
    finished: seconds(r.finishedMs),
  };
}

function deletionJson(r: DeletionRow): JsonRow {
  return {
    id: r.id,
    lfn: r.lfn,
    site: r.site,
    size: r.size,
    exit_code: r.exitCode,
    error: r.code,
    message: r.message,
    started: seconds(r.startedMs),
    finished: seconds(r.finishedMs),
  };
}

/** The original monitor's histogram parameters (`web/js/transfers/activity.js`, `web/js/deletions/activity.js`). */
const TRANSFER_GRAPH = [
  "graph",
  "entity",
  "src_filter",
  "dest_filter",
  "no_mss",
  "period",
  "upto",
  "exit_code",
];
const DELETION_GRAPH = ["graph", "src_filter", "no_mss", "period", "upto", "exit_code"];
/** Finished operations read for one histogram (newest first). */
const GRAPH_ROWS = 100_000;

/** `/data/transfers/*`, `/data/deletions/history`, `/data/fileops/run`, `/data/inventory/lfn2pfn` (spec §8.2). */
export function fileopsRoutes(
  app: Hono<AppEnv>,
  { fileops, port }: { fileops: FileOperations; port: InventoryAccess },
): void {
  const input = (c: Context<AppEnv>) => collectParams(c.req.raw, new URL(c.req.url), true);
  const limit = (n: number | undefined, fallback: number) => Math.min(Math.max(n ?? fallback, 1), 100_000);
  const since = (n: number | undefined) => {
    if (n !== undefined && n < 0) {
      throw new BadRequest("since", "must be a Unix time in seconds, not negative");
    }
    return n ?? 0;
  };

  app.get("/data/transfers/current", async (c) => {
    const p = parseParams(await input(c), { limit: { kind: "int" } });
    return ok(c, (await fileops.current(limit(p.limit, 1000))).map((r) => currentRow(subscriptionJson(r))));
  });

  /**
   * Without the monitor's parameters: the newest finished operations. With any
   * of them: the original's histogram over `period` up to `upto` ago.
   */
  const history = (kind: "transfers" | "deletions", graphParams: string[]) => async (c: Context<AppEnv>) => {
    const p = parseParams(await input(c), {
      limit: { kind: "int" },
      since: { kind: "int" },
      ...Object.fromEntries(graphParams.map((k) => [k, { kind: "text" } as const])),
    }) as { limit?: number; since?: number } & HistoryGraphParams;
    const graph = graphParams.some((k) => (p as Record<string, unknown>)[k] !== undefined);
    if (!graph) {
      const rows = kind === "transfers"
        ? (await fileops.transferHistory(limit(p.limit, 1000), since(p.since))).map(transferJson)
        : (await fileops.deletionHistory(limit(p.limit, 1000), since(p.since))).map(deletionJson);
      return ok(c, rows);
    }
    const listing = p.limit !== undefined ? "limit" : p.since !== undefined ? "since" : null;
    if (listing) throw new BadRequest(listing, `a listing parameter; not with ${graphParams.join(", ")}`);
    const q = historyGraphQuery(p);
    const started = performance.now();
    const now = Math.floor(port.now() / 1000);
    const from = now - q.uptoSeconds - q.periodSeconds;
    const rows = kind === "transfers"
      ? (await fileops.transferHistory(GRAPH_ROWS, from)).map(transferJson)
      : (await fileops.deletionHistory(GRAPH_ROWS, from)).map(deletionJson);
    const read = performance.now();
    const ops: FinishedOperation[] = rows.map((r) => ({
      source: String(kind === "transfers" ? r.source : r.site),
      destination: kind === "transfers" ? String(r.destination) : null,
      size: Number(r.size),
      exitCode: Number(r.exit_code),
      finished: Number(r.finished),
    }));
    const series = historyGraph(ops, q, now, kind);
    series[0]!.timing_string = `db:${((read - started) / 1000).toFixed(2)}s, processing:${
      ((performance.now() - read) / 1000).toFixed(2)
    }s`;
    return ok(
      c,
      series,
      rows.length >= GRAPH_ROWS
        ? `Only the newest ${GRAPH_ROWS} finished ${kind} of the period are counted`
        : "",
    );
  };

  app.get("/data/transfers/history", history("transfers", TRANSFER_GRAPH));
  app.get("/data/deletions/history", history("deletions", DELETION_GRAPH));

  // Per site, as the original monitor reads it (`counts` of held copies per reason), with ours in `held`.
  app.get("/data/transfers/held/summary", async (c) => ok(c, heldBySite(await fileops.heldSummary())));

  app.get("/data/transfers/held/detail", async (c) => {
    const p = parseParams(await input(c), {
      limit: { kind: "int" },
      site: { kind: "text" },
      reason: { kind: "text" },
    });
    if (p.reason !== undefined && !(HOLD_REASONS as readonly string[]).includes(p.reason)) {
      throw new BadRequest(
        "reason",
        `expected one of ${HOLD_REASONS.join(", ")}, got ${JSON.stringify(p.reason)}`,
      );
    }
    const rows = (await fileops.heldDetail(limit(p.limit, 1000))).map((r) =>
      heldDetailRow(subscriptionDetailJson(r))
    )
      .filter((r) =>
        (p.site === undefined || r.site === p.site) && (p.reason === undefined || r.reason === p.reason)
      );
    return ok(c, rows);
  });

  app.post("/data/transfers/release", async (c) => {
    requireRole(c, "application", ["admin", "operator"]);
    const p = parseParams(await input(c), { id: { kind: "list" }, all: { kind: "yn" } });
    if (p.all && p.id) throw new BadRequest("id", "give ids or all=y, not both");
    if (p.all) return ok(c, { released: await fileops.release("all") });
    if (!p.id || p.id.length === 0) {
      throw new BadRequest("id", "give the held subscription ids to release (or all=y)");
    }
    const ids = p.id.map((s) => {
      if (!/^\d{1,15}$/.test(s)) {
        throw new BadRequest("id", `expected a subscription id, got ${JSON.stringify(s)}`);
      }
      return Number(s);
    });
    return ok(c, { released: await fileops.release(ids) });
  });

  app.post("/data/fileops/run", async (c) => {
    requireRole(c, "application", ["admin", "operator"]);
    parseParams(await input(c), {});
    const r = await fileops.run();
    if ("error" in r && typeof r.error === "string") throw new HttpError(409, r.error);
    return ok(c, r);
  });

  /**
   * Ours: `site` and `lfn` → `{site, lfn, pfn}`. The original's (PhEDEx style):
   * `node` (a name or wildcard), `protocol`, `lfn` → `{mapping: [...]}`, one
   * entry per matching site, `pfn` null where the LFN does not map; without
   * all three, an empty mapping as the original answered.
   */
  app.get("/data/inventory/lfn2pfn", async (c) => {
    const p = parseParams(await input(c), {
      site: { kind: "text" },
      lfn: { kind: "text" },
      node: { kind: "text" },
      protocol: { kind: "text" },
    });
    if (p.node !== undefined || p.protocol !== undefined || p.site === undefined) {
      if (p.site !== undefined) {
        throw new BadRequest("site", "give site (ours) or node and protocol (the original's)");
      }
      if (p.node === undefined || p.protocol === undefined || p.lfn === undefined) {
        return ok(c, { mapping: [] });
      }
      const match = globParam(p.node);
      const mapping = [];
      for (const site of port.snapshot().sites().filter((s) => match(s.name))) {
        let pfn: string | null = null;
        try {
          pfn = await fileops.lfn2pfn(site.name, p.lfn, p.protocol);
        } catch (e) {
          if (!(e instanceof LfnError)) throw e;
        }
        mapping.push({
          protocol: p.protocol,
          custodial: null,
          destination: null,
          space_token: null,
          node: site.name,
          lfn: p.lfn,
          pfn,
        });
      }
      return ok(c, { mapping });
    }
    if (p.lfn === undefined) throw new BadRequest("lfn", "is required");
    try {
      return ok(c, { site: p.site!, lfn: p.lfn!, pfn: await fileops.lfn2pfn(p.site!, p.lfn!) });
    } catch (e) {
      if (e instanceof LfnError) throw new BadRequest(e.param, e.message);
      throw e;
    }
  });
}
