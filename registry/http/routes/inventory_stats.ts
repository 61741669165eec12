import type { Hono } from "hono";
import { type AppEnv, ok } from "../context.ts";
import { BadRequest } from "../errors.ts";
import {
  type Alternatives,
  NONE,
  STAT_CATEGORIES,
  type StatCategory,
  STATISTICS,
  type StatsQuery,
} from "../../inventory/reads/inventory_stats.ts";
import { regexParam } from "../param_patterns.ts";
import { collectParams, type ParamSpec, parseParams } from "../params.ts";
import type { InventoryReader } from "../inventory_access.ts";
import { heavyRead } from "../heavy_read.ts";

/** The parameters the original monitor sends (`web/js/inventory/stats.js`). */
export const STATS_PARAMS: Record<string, ParamSpec> = {
  list_by: { kind: "text" },
  physical: { kind: "text" },
  ...Object.fromEntries(STAT_CATEGORIES.map((c) => [c, { kind: "many" } as ParamSpec])),
};

const YES = ["y", "yes", "true", "1"];
const NO = ["n", "no", "false", "0"];

/**
 * `/data/inventory/stats/{size,replication,usage}`: the original inventory monitor's statistics,
 * answered on the reader replica when one is ready.
 */
export function inventoryStatsRoutes(app: Hono<AppEnv>, port: InventoryReader): void {
  for (const statistic of STATISTICS) {
    app.get(`/data/inventory/stats/${statistic}`, async (c) => {
      const raw = parseParams(await collectParams(c.req.raw, new URL(c.req.url), true), STATS_PARAMS);
      const query = statsQuery(raw as Record<string, string | string[] | undefined>);
      return ok(c, await heavyRead(port, c, { kind: "stats", statistic, query }));
    });
  }
}

/** The query from the monitor's parameters; bad values (a malformed pattern too) are 400s naming the parameter. */
export function statsQuery(p: Record<string, string | string[] | undefined>): StatsQuery {
  const listBy = ((p.list_by as string | undefined)?.trim() || STAT_CATEGORIES[0]) as StatCategory;
  if (!STAT_CATEGORIES.includes(listBy)) {
    throw new BadRequest(
      "list_by",
      `expected one of ${STAT_CATEGORIES.join(", ")}, got ${JSON.stringify(listBy)}`,
    );
  }
  const physicalText = ((p.physical as string | undefined) ?? "y").trim().toLowerCase();
  if (!YES.includes(physicalText) && !NO.includes(physicalText)) {
    throw new BadRequest("physical", `expected y or n, got ${JSON.stringify(p.physical)}`);
  }
  const constraints: Partial<Record<StatCategory, Alternatives>> = {};
  for (const category of STAT_CATEGORIES) {
    // The monitor's JSON link joins the selected groups with commas; group names have none.
    const values = ((p[category] as string[] | undefined) ?? [])
      .flatMap((v) => (category === "group" ? v.split(",") : [v]))
      .map((v) => v.trim())
      .filter((v) => v.length > 0); // the monitor sends its empty inputs: no constraint
    if (values.length > 0) {
      constraints[category] = values.map((v) => {
        if (v === NONE) return null;
        regexParam(category, v); // checked here: the replica gets only well-formed patterns
        return v;
      });
    }
  }
  return { listBy, physical: YES.includes(physicalText), constraints };
}
