import type { Context, Hono } from "hono";
import type { CopyRequest } from "../../requests/copy_request.ts";
import type { DeletionRequest } from "../../requests/deletion_request.ts";
import { type AppEnv, ok } from "../context.ts";
import type { RequestRegistry } from "../request_registry.ts";
import { BadRequest } from "../errors.ts";
import { globParam } from "../param_patterns.ts";
import { collectParams, parseParams } from "../params.ts";
import type { InventoryReader } from "../inventory_access.ts";
import { heavyRead } from "../heavy_read.ts";

const DECISIONS = ["approved", "pending", "disapproved"] as const;
/** The newest requests of each kind a request list looks through. */
const REQUEST_LIST_LIMIT = 10_000;

/**
 * The original's PhEDEx-style listings that `test/test_web.py` reads:
 * `/data/inventory/requestlist` (copy and deletion requests with their
 * sites) and `/data/inventory/subscriptions` (replicas as subscriptions).
 */
export function phedexCompatRoutes(
  app: Hono<AppEnv>,
  { port, registry: dealer }: { port: InventoryReader; registry: RequestRegistry },
): void {
  const input = (c: Context<AppEnv>) => collectParams(c.req.raw, new URL(c.req.url), true);

  app.get("/data/inventory/requestlist", async (c) => {
    const p = parseParams(await input(c), {
      node: { kind: "text" },
      dataset: { kind: "text" },
      decision: { kind: "text" },
    });
    if (p.decision !== undefined && !DECISIONS.includes(p.decision as typeof DECISIONS[number])) {
      throw new BadRequest(
        "decision",
        `expected one of ${DECISIONS.join(", ")}, got ${JSON.stringify(p.decision)}`,
      );
    }
    const snap = port.snapshot();
    const node = p.node !== undefined ? globParam(p.node) : null;
    const dataset = p.dataset !== undefined ? globParam(p.dataset) : null;
    const q = { all: true, limit: REQUEST_LIST_LIMIT };
    const rows: [CopyRequest | DeletionRequest, "xfer" | "delete"][] = [
      ...(await dealer.copyRequests(q)).map((r) => [r, "xfer"] as [CopyRequest, "xfer"]),
      ...(await dealer.deletionRequests(q)).map((r) => [r, "delete"] as [DeletionRequest, "delete"]),
    ];
    const request = [];
    for (const [r, type] of rows) {
      const approval = r.status === "new"
        ? "pending"
        : ["activated", "completed"].includes(r.status)
        ? "approved"
        : "disapproved";
      if (p.decision !== undefined && approval !== p.decision) continue;
      if (dataset && !r.items.some((item) => dataset(item.split("#")[0]!))) continue;
      const sites = r.sites.map((name) => snap.site(name)).filter((s) => s !== undefined);
      if (node && !sites.some((s) => node(s.name))) continue;
      request.push({
        id: r.id,
        type,
        approval,
        requested_by: r.user,
        time_create: r.createdAt,
        node: sites.map((s) => ({
          id: s.id,
          name: s.name,
          se: s.host,
          decision: approval,
          decided_by: r.user,
          time_decided: r.createdAt,
        })),
      });
    }
    return ok(c, { request });
  });

  app.get("/data/inventory/subscriptions", async (c) => {
    const p = parseParams(await input(c), {
      dataset: { kind: "text" },
      block: { kind: "text" },
      node: { kind: "text" },
      group: { kind: "text" },
      suspended: { kind: "yn" },
      move: { kind: "yn" },
    });
    // Nothing is suspended or moved here; neither dataset nor block: nothing (as the original).
    if (p.suspended || p.move) return ok(c, { dataset: [] });
    let dataset: string;
    let block: string | null = null;
    if (p.dataset !== undefined) {
      if (p.dataset.includes("#")) return ok(c, { dataset: [] });
      dataset = p.dataset;
    } else if (p.block !== undefined) {
      const [d, b] = p.block.split("#", 2);
      if (b === undefined) return ok(c, { dataset: [] });
      dataset = d!;
      block = b;
    } else {
      return ok(c, { dataset: [] });
    }
    const query = { dataset, block, node: p.node ?? null, group: p.group ?? null };
    return ok(c, await heavyRead(port, c, { kind: "subscriptions", query }));
  });
}
