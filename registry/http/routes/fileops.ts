import type { Context, Hono } from "hono";
import { type AppEnv, ok, requireRole } from "../context.ts";
import { BadRequest, HttpError } from "../errors.ts";
import { type FileOpsPort, LfnError } from "../fileops_port.ts";
import { collectParams, parseParams } from "../params.ts";

/** `/data/transfers/*`, `/data/deletions/history`, `/data/fileops/run`, `/data/inventory/lfn2pfn` (spec §8.2). */
export function fileopsRoutes(app: Hono<AppEnv>, fileops: FileOpsPort): void {
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
    return ok(c, await fileops.current(limit(p.limit, 1000)));
  });

  app.get("/data/transfers/history", async (c) => {
    const p = parseParams(await input(c), { limit: { kind: "int" }, since: { kind: "int" } });
    return ok(c, await fileops.transferHistory(limit(p.limit, 1000), since(p.since)));
  });

  app.get("/data/deletions/history", async (c) => {
    const p = parseParams(await input(c), { limit: { kind: "int" }, since: { kind: "int" } });
    return ok(c, await fileops.deletionHistory(limit(p.limit, 1000), since(p.since)));
  });

  app.get("/data/transfers/held/summary", async (c) => ok(c, await fileops.heldSummary()));

  app.get("/data/transfers/held/detail", async (c) => {
    const p = parseParams(await input(c), { limit: { kind: "int" } });
    return ok(c, await fileops.heldDetail(limit(p.limit, 1000)));
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
    const r = await fileops.run();
    if ("error" in r && typeof r.error === "string") throw new HttpError(409, r.error);
    return ok(c, r);
  });

  app.get("/data/inventory/lfn2pfn", async (c) => {
    const p = parseParams(await input(c), {
      site: { kind: "text", required: true },
      lfn: { kind: "text", required: true },
    });
    try {
      return ok(c, { site: p.site!, lfn: p.lfn!, pfn: await fileops.lfn2pfn(p.site!, p.lfn!) });
    } catch (e) {
      if (e instanceof LfnError) throw new BadRequest(e.param, e.message);
      throw e;
    }
  });
}
