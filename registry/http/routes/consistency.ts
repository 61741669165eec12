import type { Context, Hono } from "hono";
import { type AppEnv, ok, requireRole } from "../context.ts";
import { BadRequest, HttpError } from "../errors.ts";
import {
  type CheckResult,
  type ConsistencyChecks,
  type ConsistencyFinding,
  type ConsistencyRun,
  FINDING_KINDS,
  type FindingKindParam,
  type JsonObject,
} from "../consistency_checks.ts";
import { collectParams, parseParams } from "../params.ts";

const SITE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

const seconds = (ms: number) => Math.floor(ms / 1000);

function runJson(r: ConsistencyRun): JsonObject {
  return {
    run_id: r.id,
    site: r.site,
    started: seconds(r.startedMs),
    finished: seconds(r.finishedMs),
    duration_s: (r.finishedMs - r.startedMs) / 1000,
    complete: r.complete,
    dry_run: r.dryRun,
    files_listed: r.filesListed,
    dirs_listed: r.dirsListed,
    dirs_skipped: r.dirsSkipped ?? 0,
    expected: r.expected,
    missing: r.missing,
    orphan: r.orphan,
    corrupt: r.corrupt,
    unrecoverable: r.unrecoverable,
    unmanaged: r.unmanaged,
    empty_dirs: r.emptyDirs,
    hostile: r.hostile,
    young: r.young,
    unlisted: r.unlisted,
    being_deleted: r.beingDeleted,
    confirmed: r.confirmed,
    acted: r.acted,
    flagged: r.flagged,
    flag_reasons: [...r.flagReasons],
    withheld: r.withheld,
    failed_dirs: r.failedDirs.map((f) => ({ dir: f.dir, reason: f.reason, attempts: f.attempts })),
  };
}

function findingJson(f: ConsistencyFinding): JsonObject {
  return {
    kind: f.kind,
    path: f.path,
    size: f.size,
    listed_size: f.listedSize,
    lfn: f.lfn,
    dataset: f.dataset,
    block: f.block,
    confirmed: f.confirmed,
    action: f.action,
    outcome: f.outcome,
    detail: f.detail,
  };
}

function summaryJson(s: CheckResult): JsonObject {
  return {
    run_id: s.runId,
    site: s.site,
    complete: s.complete,
    dry_run: s.dryRun,
    flagged: s.flagged,
    flag_reasons: [...s.flagReasons],
    withheld: s.withheld,
    duration_s: s.durationMs / 1000,
    files_listed: s.filesListed,
    dirs_skipped: s.dirsSkipped ?? 0,
    missing: s.missing,
    orphan: s.orphan,
    corrupt: s.corrupt,
    unmanaged: s.unmanaged,
    empty_dirs: s.emptyDirs,
    hostile: s.hostile,
    unrecoverable: s.unrecoverable,
    confirmed: s.confirmed,
    acted: s.acted,
    failed_dirs: s.failedDirs.map((f) => ({ dir: f.dir, reason: f.reason, attempts: f.attempts })),
  };
}

/** `/data/consistency/*` (spec §6): per-site summaries, a run's findings, checks and invalidation. */
export function consistencyRoutes(app: Hono<AppEnv>, consistency: ConsistencyChecks): void {
  const input = (c: Context<AppEnv>) => collectParams(c.req.raw, new URL(c.req.url), true);
  const site = (value: string | undefined) => {
    if (value === undefined || value === "") throw new BadRequest("site", "give the site's name");
    if (!SITE.test(value)) {
      throw new BadRequest("site", `not a site name: ${JSON.stringify(value.slice(0, 100))}`);
    }
    if (!consistency.knownSite(value)) throw new BadRequest("site", `unknown site ${JSON.stringify(value)}`);
    return value;
  };
  const configured = () => {
    if (!consistency.configured()) {
      throw new HttpError(503, "Consistency checks are not configured on this server");
    }
  };

  app.get("/data/consistency/summary", async (c) => ok(c, (await consistency.summary()).map(runJson)));

  app.get("/data/consistency/site", async (c) => {
    const p = parseParams(await input(c), {
      site: { kind: "text" },
      kind: { kind: "text" },
      offset: { kind: "int" },
      limit: { kind: "int" },
    });
    const name = site(p.site);
    if (p.kind !== undefined && !(FINDING_KINDS as readonly string[]).includes(p.kind)) {
      throw new BadRequest("kind", `expected one of ${FINDING_KINDS.join(", ")}`);
    }
    if (p.offset !== undefined && p.offset < 0) throw new BadRequest("offset", "must not be negative");
    if (p.limit !== undefined && (p.limit < 1 || p.limit > 100_000)) {
      throw new BadRequest("limit", "must be from 1 to 100000");
    }
    const page = await consistency.site(name, {
      ...(p.kind !== undefined ? { kind: p.kind as FindingKindParam } : {}),
      offset: p.offset ?? 0,
      limit: p.limit ?? 1000,
    });
    if (!page) throw new HttpError(404, `Site ${name} has not been checked yet`);
    return ok(c, { run: runJson(page.run), total: page.total, findings: page.findings.map(findingJson) });
  });

  app.post("/data/consistency/check", async (c) => {
    requireRole(c, "application", ["admin", "operator"]);
    const p = parseParams(await input(c), { site: { kind: "text" }, dry_run: { kind: "yn" } });
    const name = site(p.site);
    configured();
    const r = await consistency.check(name, p.dry_run ?? false);
    if ("error" in r && typeof r.error === "string") throw new HttpError(409, r.error);
    return ok(c, summaryJson(r as CheckResult));
  });

  app.get("/data/consistency/progress", async (c) => {
    const p = parseParams(await input(c), { site: { kind: "text" } });
    const name = site(p.site);
    const progress = await consistency.progress(name);
    return ok(
      c,
      progress === null ? null : {
        site: name,
        started: seconds(progress.startedMs),
        files: progress.files,
        dirs: progress.dirs,
        queued: progress.queued,
        failed: progress.failed,
      },
    );
  });

  app.post("/data/consistency/cancel", async (c) => {
    requireRole(c, "application", ["admin", "operator"]);
    const p = parseParams(await input(c), { site: { kind: "text" } });
    const name = site(p.site);
    configured();
    return ok(c, await consistency.cancel(name));
  });

  app.post("/data/consistency/invalidate", async (c) => {
    requireRole(c, "application", ["admin", "operator"]);
    const p = parseParams(await input(c), { site: { kind: "text" } });
    const name = site(p.site);
    configured();
    const r = await consistency.invalidate(name);
    if ("error" in r) throw new HttpError(409, r.error);
    return ok(c, { invalidated: r.invalidated, failed: r.failed });
  });
}
