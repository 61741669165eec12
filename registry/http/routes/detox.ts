import type { Context, Hono } from "hono";
import { parseTimeExpression } from "../../../policies/language/time_expression.ts";
import { compileGlob, describeType, globToLike, InventoryValidationError } from "../../inventory/mod.ts";
import { parseAccessRecords } from "../../requests/access_record.ts";
import { checkLockRequest, type DetoxLock, type LockRequest } from "../../requests/detox_lock.ts";
import { type AppEnv, isAdmin, ok, requireAuthenticated, requireRole } from "../context.ts";
import type { CycleView, DetoxRegistry } from "../detox_registry.ts";
import { DETOX_MODES, type DetoxMode, type DetoxRunSummary } from "../../requests/detox_run.ts";
import { BadRequest, HttpError } from "../errors.ts";
import { collectParams, intParam, parseParams, readJson } from "../params.ts";
import type { InventoryAccess } from "../inventory_access.ts";
import { budgetJson } from "../cycle_budget_json.ts";
import {
  deletionDump,
  originalCycleEntry,
  originalDatasetSearch,
  originalSiteData,
  originalSiteDetail,
  shownOnMonitor,
} from "./detox_original.ts";

const CYCLE_PARAMS = { cycle: { kind: "int" }, partition: { kind: "text" } } as const;
/** Patterns one `/data/detox/datasets?datasets[]=…` call may search (each is a pass over the cycle's decisions). */
const MAX_PATTERNS = 20;

/** `/data/detox/*` (spec §8.2 "detox"), the lock API, and popularity ingestion. */
export function detoxRoutes(
  app: Hono<AppEnv>,
  { port, detox }: { port: InventoryAccess; detox: DetoxRegistry },
): void {
  const input = (c: Context<AppEnv>) => collectParams(c.req.raw, new URL(c.req.url), true);
  const now = () => Math.floor(port.now() / 1000);

  /** The cycle a request names, or the latest (recorded) one of a partition. */
  async function cycleOf(p: { cycle?: number; partition?: string }): Promise<CycleView> {
    if (p.cycle !== undefined) {
      const c = await detox.cycle(p.cycle);
      if (!c) throw new HttpError(404, `No Detox cycle ${p.cycle}`);
      return c;
    }
    const [latest] = await detox.cycles({ ...(p.partition ? { partition: p.partition } : {}), limit: 1 });
    if (!latest) {
      throw new HttpError(
        404,
        p.partition ? `No Detox cycle for partition "${p.partition}"` : "No Detox cycle yet",
      );
    }
    return latest;
  }

  const lineText = (c: CycleView, line: number) => c.policyText.split(/\r?\n/)[line - 1]?.trim() ?? "";
  /** The id the original monitor knows a partition by (`partition_id`), or null for one no longer defined. */
  const partitionId = (name: string) => port.snapshot().partitions().find((x) => x.name === name)?.id ?? null;

  app.get("/data/detox/partitions", async (c) => {
    parseParams(await input(c), {});
    const cycles = await detox.cycles({ limit: 1000 });
    const names = [
      ...new Set([...port.snapshot().partitions().map((p) => p.name), ...cycles.map((x) => x.partition)]),
    ];
    return ok(
      c,
      names.map((name) => {
        const mine = cycles.filter((x) => x.partition === name);
        // id, name and monitored are what the original monitor's page reads (partition tabs, refresh).
        return {
          partition: name,
          cycles: mine.length,
          latest_cycle: mine[0]?.id ?? null,
          id: partitionId(name),
          name,
          monitored: mine.some(shownOnMonitor),
        };
      }),
    );
  });

  app.get("/data/detox/cycles", async (c) => {
    const p = parseParams(await input(c), {
      partition: { kind: "text" },
      mode: { kind: "list" },
      limit: { kind: "int" },
      partition_id: { kind: "int" },
      cycle: { kind: "int" },
    });
    if (p.partition_id !== undefined || p.cycle !== undefined) return ok(c, await originalCycles(p));
    for (const m of p.mode ?? []) {
      if (!DETOX_MODES.includes(m as DetoxMode)) {
        throw new BadRequest("mode", `expected ${DETOX_MODES.join(", ")}, got "${m}"`);
      }
    }
    const cycles = await detox.cycles({
      ...(p.partition ? { partition: p.partition } : {}),
      ...(p.mode ? { modes: p.mode as DetoxMode[] } : {}),
      limit: Math.min(p.limit ?? 100, 10_000),
    });
    return ok(c, cycles.map(cycleJson));
  });

  /**
   * The original monitor's call (`partition_id`, `cycle`; 0 = the latest): one entry,
   * `{cycle: 0}` when there is none (the page says so; the original's empty list broke it).
   */
  async function originalCycles(p: { partition_id?: number; cycle?: number; partition?: string }) {
    if (p.partition_id !== undefined && p.partition_id < 0) {
      throw new BadRequest("partition_id", `expected a partition id (0 for any), got ${p.partition_id}`);
    }
    if (p.cycle !== undefined && p.cycle < 0) {
      throw new BadRequest("cycle", `expected a cycle number (0 for the latest), got ${p.cycle}`);
    }
    let partition = p.partition;
    if (p.partition_id) {
      partition = port.snapshot().partitions().find((x) => x.id === p.partition_id)?.name;
      if (partition === undefined) throw new HttpError(404, `No partition with id ${p.partition_id}`);
    }
    let found: CycleView | null;
    if (p.cycle) {
      found = await detox.cycle(p.cycle);
      if (found && partition !== undefined && found.partition !== partition) found = null;
    } else {
      const recent = await detox.cycles({
        ...(partition ? { partition } : {}),
        modes: ["normal"],
        limit: 1000,
      });
      found = recent.find(shownOnMonitor) ?? null;
    }
    return [originalCycleEntry(found, found ? partitionId(found.partition) ?? 0 : p.partition_id ?? 0)];
  }

  app.get("/data/detox/summary", async (c) => {
    const cycle = await cycleOf(parseParams(await input(c), CYCLE_PARAMS));
    const sites = await detox.sites(cycle.id);
    const ofPartition = await detox.cycles({ partition: cycle.partition, limit: 1000 });
    const [previous] = ofPartition.filter((x) => x.id < cycle.id);
    const next = ofPartition.filter((x) => x.id > cycle.id).at(-1);
    const before = previous ? new Map((await detox.sites(previous.id)).map((s) => [s.site, s])) : new Map();
    return ok(c, {
      // The original monitor reads cycle (a number), previous_cycle and next_cycle (0 for none),
      // cycle_timestamp, comment and site_data (TB, Total first); the full record is cycle_record.
      cycle: cycle.id,
      cycle_record: cycleJson(cycle),
      operation: "deletion",
      comment: cycle.comment ?? "",
      cycle_timestamp: Math.floor(cycle.startedMs / 1000),
      partition: partitionId(cycle.partition) ?? 0,
      previous_cycle: previous?.id ?? 0,
      next_cycle: next?.id ?? 0,
      site_data: originalSiteData(sites, before),
      sites: sites.map((s) => ({
        site: s.site,
        status: s.status,
        quota: s.quota,
        used_before: s.usedBefore,
        used_after: s.usedAfter,
        triggered: s.triggered,
        still_triggered: s.stillTriggered,
        protect: s.protectedBytes,
        delete: s.deletedBytes,
        keep: s.keptBytes,
        previous: before.has(s.site)
          ? {
            protect: before.get(s.site).protectedBytes,
            delete: before.get(s.site).deletedBytes,
            keep: before.get(s.site).keptBytes,
          }
          : null,
      })),
    });
  });

  app.get("/data/detox/sitedetail", async (c) => {
    const p = parseParams(await input(c), { ...CYCLE_PARAMS, site: { kind: "text", required: true } });
    const cycle = await cycleOf(p);
    const rows = await detox.decisions(cycle.id, { site: p.site! });
    return ok(c, {
      cycle: cycle.id,
      site: p.site,
      datasets: rows.map((r) => ({
        ...decisionJson(r),
        reason: r.reason ?? (r.line ? lineText(cycle, r.line) : ""),
      })),
      ...originalSiteDetail(p.site!, rows, (line) => lineText(cycle, line)),
    });
  });

  app.get("/data/detox/datasets", async (c) => {
    const p = parseParams(await input(c), {
      ...CYCLE_PARAMS,
      dataset: { kind: "text" },
      datasets: { kind: "many" },
    });
    if (p.datasets !== undefined) {
      // The original monitor's search: `datasets[]`, one result per pattern.
      if (p.dataset !== undefined) throw new BadRequest("datasets", "give dataset or datasets, not both");
      if (p.datasets.length > MAX_PATTERNS) {
        throw new BadRequest("datasets", `at most ${MAX_PATTERNS} patterns`);
      }
      const blank = p.datasets.find((x) => x.trim() === "");
      if (blank !== undefined) throw new BadRequest("datasets", "a pattern must not be empty");
      const cycle = await cycleOf(p);
      // The database narrows to what may match (rows beyond its limit were silently cut before); the globs decide.
      const rows = await detox.decisions(cycle.id, { datasetLike: p.datasets.map(globToLike) });
      return ok(c, {
        cycle: cycle.id,
        ...originalDatasetSearch(p.datasets, rows, (line) => lineText(cycle, line)),
      });
    }
    if (p.dataset === undefined) throw new BadRequest("dataset", "is required");
    const cycle = await cycleOf(p);
    const exact = !p.dataset!.includes("*") && !p.dataset!.includes("?");
    const rows = await detox.decisions(
      cycle.id,
      exact ? { dataset: p.dataset! } : { datasetLike: [globToLike(p.dataset!)] },
    );
    const re = compileGlob(p.dataset!);
    return ok(c, {
      cycle: cycle.id,
      decisions: rows.filter((r) => re.test(r.dataset)).map((r) => ({
        ...decisionJson(r),
        site: r.site,
        reason: r.reason ?? lineText(cycle, r.line),
      })),
    });
  });

  app.get("/data/detox/dump", async (c) => {
    const cycle = await cycleOf(parseParams(await input(c), CYCLE_PARAMS));
    const text = deletionDump(await detox.decisions(cycle.id, {}));
    return c.body(text, 200, {
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Disposition": `attachment; filename="deletions_${cycle.id}.txt"`,
    });
  });

  app.get("/data/detox/policy", async (c) => {
    const cycle = await cycleOf(parseParams(await input(c), CYCLE_PARAMS));
    return ok(c, {
      cycle: cycle.id,
      partition: cycle.partition,
      hash: cycle.policyHash,
      text: cycle.policyText,
    });
  });

  app.post("/data/detox/run", async (c) => {
    requireRole(c, "application", ["admin", "operator"]);
    const p = parseParams(await input(c), {
      partition: { kind: "text" },
      policy: { kind: "text" },
      mode: { kind: "text" },
      time_shift: { kind: "text" },
      comment: { kind: "text" },
    });
    if (!detox.configured()) {
      throw new HttpError(503, "No Detox policy is configured on this server (DYNAMO_DETOX_POLICIES)");
    }
    const mode = (p.mode ?? "normal") as DetoxMode;
    if (!DETOX_MODES.includes(mode)) {
      throw new BadRequest("mode", `expected ${DETOX_MODES.join(", ")}, got "${p.mode}"`);
    }
    const shift = p.time_shift === undefined ? 0 : Number(p.time_shift);
    if (!Number.isFinite(shift) || shift < 0 || shift > 3650) {
      throw new BadRequest("time_shift", "expected a number of days between 0 and 3650");
    }
    const result = await detox.run({
      mode,
      ...(p.partition !== undefined ? { partition: p.partition } : {}),
      ...(p.policy !== undefined ? { policy: p.policy } : {}),
      ...(shift ? { timeShiftDays: shift } : {}),
      ...(p.comment ? { comment: p.comment } : {}),
    });
    if ("error" in result) throw new HttpError(400, result.error);
    return ok(c, result.map(runJson));
  });

  // ---- locks (aliases under /registry/detoxlock as in the original) ----

  for (const prefix of ["/data/detox/lock", "/registry/detoxlock"]) {
    app.get(`${prefix}/list`, async (c) => {
      const p = parseParams(await input(c), {
        lockid: { kind: "list" },
        user: { kind: "text" },
        item: { kind: "text" },
        showall: { kind: "yn" },
      });
      const locks = await detox.listLocks({
        ...(p.showall ? {} : { activeAt: now() }),
        ...(p.user ? { user: p.user } : {}),
        ...(p.item ? { item: p.item } : {}),
        ...(p.lockid ? { ids: p.lockid.map((x) => intParam("lockid", x)) } : {}),
      });
      return ok(c, locks.map(lockJson));
    });

    app.post(`${prefix}/lock`, async (c) => {
      const user = requireAuthenticated(c);
      const p = parseParams(await input(c), {
        item: { kind: "text", required: true },
        expires: { kind: "text", required: true },
        sites: { kind: "list" },
        groups: { kind: "list" },
        service: { kind: "text" },
        comment: { kind: "text" },
      });
      const request = lockRequest(p, now());
      return ok(c, lockJson(await detox.lock(user, request)));
    });

    app.post(`${prefix}/unlock`, async (c) => {
      const principal = c.get("principal");
      const user = requireAuthenticated(c);
      const p = parseParams(await input(c), { lockid: { kind: "list" }, item: { kind: "text" } });
      if (!p.lockid && !p.item) throw new BadRequest("lockid", "give lockid or item");
      const admin = isAdmin(principal, "registry");
      const ids = p.lockid
        ? p.lockid.map((x) => intParam("lockid", x))
        : (await detox.listLocks({ activeAt: now(), item: p.item!, ...(admin ? {} : { user }) })).map((l) =>
          l.id
        );
      const unlocked = await detox.unlock(admin ? null : user, ids);
      return ok(c, { unlocked });
    });

    app.post(`${prefix}/set`, async (c) => {
      const user = requireAuthenticated(c);
      const body = await readJson(c.req.raw);
      if (!Array.isArray(body)) {
        throw new BadRequest("body", `expected a JSON list of locks, got ${describeType(body)}`);
      }
      const requests = body.map((raw, i) => lockRequestFromJson(raw, `body[${i}]`, now()));
      return ok(c, await detox.setLocks(user, requests));
    });
  }

  app.post("/data/popularity/accesses", async (c) => {
    requireRole(c, "registry", ["admin", "operator"]);
    const body = await readJson(c.req.raw);
    let records;
    try {
      records = parseAccessRecords(body, now());
    } catch (e) {
      if (e instanceof InventoryValidationError) {
        throw new BadRequest(e.field ? `${e.object}.${e.field}` : e.object, e.reason);
      }
      throw e;
    }
    return ok(c, { recorded: await detox.recordAccesses(records) });
  });
}

const LOCK_FIELDS = ["item", "expires", "sites", "groups", "service", "comment"];

/** One entry of a `lock/set` list; errors name it (`body[3].expires`). */
function lockRequestFromJson(raw: unknown, at: string, now: number): LockRequest {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new BadRequest(at, "expected an object");
  }
  const r = raw as Record<string, unknown>;
  const unknown = Object.keys(r).find((k) => !LOCK_FIELDS.includes(k));
  if (unknown !== undefined) throw new BadRequest(`${at}.${unknown}`, "unknown field");
  const list = (k: string): string[] | undefined => {
    if (r[k] === undefined) return undefined;
    if (Array.isArray(r[k]) && (r[k] as unknown[]).every((x) => typeof x === "string")) {
      return r[k] as string[];
    }
    throw new BadRequest(`${at}.${k}`, "expected a list of strings");
  };
  const text = (k: string): string | undefined => {
    if (r[k] === undefined) return undefined;
    if (typeof r[k] === "string" || typeof r[k] === "number") return String(r[k]);
    throw new BadRequest(`${at}.${k}`, "expected text");
  };
  const fields = {
    item: text("item"),
    expires: text("expires"),
    sites: list("sites"),
    groups: list("groups"),
    service: text("service"),
    comment: text("comment"),
  };
  try {
    return lockRequest(fields, now);
  } catch (e) {
    if (e instanceof BadRequest) {
      throw new BadRequest(`${at}.${e.parameter}`, e.message.replace(/^Parameter "[^"]*": /, ""));
    }
    throw e;
  }
}

function lockRequest(
  p: {
    item?: string | undefined;
    expires?: string | undefined;
    sites?: string[] | undefined;
    groups?: string[] | undefined;
    service?: string | undefined;
    comment?: string | undefined;
  },
  now: number,
): LockRequest {
  if (!p.item) throw new BadRequest("item", "is required");
  if (!p.expires) throw new BadRequest("expires", "is required");
  const expiresAt = /^\d{9,12}$/.test(p.expires)
    ? Number(p.expires)
    : parseTimeExpression(p.expires, now * 1000);
  if (expiresAt === null) {
    throw new BadRequest(
      "expires",
      `expected a date (YYYY-MM-DD) or Unix seconds, got ${JSON.stringify(p.expires)}`,
    );
  }
  try {
    return checkLockRequest({
      item: p.item,
      expiresAt,
      sites: p.sites ?? [],
      groups: p.groups ?? [],
      service: p.service ?? null,
      comment: p.comment ?? null,
    }, now);
  } catch (e) {
    if (e instanceof InventoryValidationError) throw new BadRequest(e.field ?? "item", e.reason);
    throw e;
  }
}

function cycleJson(c: CycleView) {
  return {
    cycle: c.id,
    partition: c.partition,
    mode: c.mode,
    status: c.status,
    policy_hash: c.policyHash,
    generation: c.generation,
    committed_generation: c.committedGeneration,
    started: Math.floor(c.startedMs / 1000),
    ended: c.endedMs === null ? null : Math.floor(c.endedMs / 1000),
    time_shift_days: c.timeShiftDays,
    iterations: c.iterations,
    evaluations: c.evaluations,
    deleted_bytes: c.deletedBytes,
    unmatched_lines: c.unmatchedLines,
    comment: c.comment,
    budget: budgetJson(c.budget),
  };
}

function runJson(r: DetoxRunSummary) {
  return {
    cycle: r.cycleId,
    partition: r.partition,
    mode: r.mode,
    generation: r.generation,
    committed_generation: r.committedGeneration,
    deleted_replicas: r.deletions,
    deleted_bytes: r.deletedBytes,
    iterations: r.iterations,
    evaluations: r.evaluations,
    seconds: r.seconds,
    unmatched_lines: r.unmatchedLines,
    ...(r.error ? { error: r.error } : {}),
  };
}

function decisionJson(
  r: { dataset: string; decision: string; line: number; size: number; blocks: string[] },
) {
  return { dataset: r.dataset, decision: r.decision, line: r.line, size: r.size, blocks: r.blocks };
}

function lockJson(l: DetoxLock) {
  return {
    lockid: l.id,
    item: l.item,
    sites: l.sites,
    groups: l.groups,
    user: l.user,
    service: l.service,
    comment: l.comment,
    created: l.createdAt,
    expires: l.expiresAt,
    unlocked: l.unlockedAt,
  };
}
