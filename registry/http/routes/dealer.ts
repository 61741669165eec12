import type { Context, Hono } from "hono";
import { type AppEnv, ok, requireRole } from "../context.ts";
import type { DealerCycleRecord, DealerMode, RequestRegistry } from "../request_registry.ts";
import { BadRequest, HttpError } from "../errors.ts";
import { collectParams, parseParams } from "../params.ts";
import { budgetJson } from "../cycle_budget_json.ts";

const MODES: readonly DealerMode[] = ["normal", "dry-run"];

/** `/data/dealer/*`: cycles, every proposal's fate (why a dataset was or was not copied), runs on request. */
export function dealerRoutes(app: Hono<AppEnv>, dealer: RequestRegistry): void {
  const input = (c: Context<AppEnv>) => collectParams(c.req.raw, new URL(c.req.url), true);

  app.get("/data/dealer/cycles", async (c) => {
    const p = parseParams(await input(c), { limit: { kind: "int" } });
    return ok(c, (await dealer.dealerCycles(Math.min(Math.max(p.limit ?? 100, 1), 10_000))).map(cycleJson));
  });

  app.get("/data/dealer/decisions", async (c) => {
    const p = parseParams(await input(c), {
      cycle: { kind: "int" },
      dataset: { kind: "text" },
      limit: { kind: "int" },
    });
    if (p.cycle === undefined && p.dataset === undefined) {
      throw new BadRequest("dataset", "give dataset or cycle");
    }
    const rows = await dealer.dealerDecisions({
      ...(p.cycle !== undefined ? { cycleId: p.cycle } : {}),
      ...(p.dataset !== undefined ? { dataset: p.dataset } : {}),
      limit: Math.min(Math.max(p.limit ?? 1000, 1), 100_000),
    });
    return ok(
      c,
      rows.map((d) => ({
        cycle: d.cycleId,
        plugin: d.plugin,
        dataset: d.dataset,
        blocks: d.blocks,
        site: d.site,
        accepted: d.accepted,
        reason: d.reason,
        why: d.why,
        bytes: d.bytes,
        request_id: d.requestId,
      })),
    );
  });

  app.post("/data/dealer/run", async (c) => {
    requireRole(c, "application", ["admin", "operator"]);
    const p = parseParams(await input(c), { mode: { kind: "text" }, comment: { kind: "text" } });
    if (!dealer.dealerConfigured()) {
      throw new HttpError(503, "No Dealer is configured on this server (DYNAMO_DEALER_CONFIG)");
    }
    const mode = (p.mode ?? "normal") as DealerMode;
    if (!MODES.includes(mode)) {
      throw new BadRequest("mode", `expected ${MODES.join(" or ")}, got "${p.mode}"`);
    }
    const r = await dealer.runDealer(mode, p.comment ?? null);
    if (r.cycleId === null && r.error) throw new HttpError(409, r.error);
    return ok(c, {
      cycle: r.cycleId,
      mode: r.mode,
      generation: r.generation,
      committed_generation: r.committedGeneration,
      copies: r.copies,
      bytes: r.bytes,
      accepted: r.accepted,
      rejected: r.rejected,
      rejections: r.rejections,
      seconds: r.seconds,
      ...(r.error ? { error: r.error } : {}),
    });
  });
}

function cycleJson(c: DealerCycleRecord) {
  return {
    cycle: c.id,
    partition: c.partition,
    mode: c.mode,
    status: c.status,
    generation: c.generation,
    committed_generation: c.committedGeneration,
    started: Math.floor(c.startedMs / 1000),
    ended: c.endedMs === null ? null : Math.floor(c.endedMs / 1000),
    targets: c.targets,
    accepted: c.accepted,
    rejected: c.rejected,
    bytes: c.bytes,
    rejections: c.rejections,
    comment: c.comment,
    error: c.error,
    budget: budgetJson(c.budget),
  };
}
