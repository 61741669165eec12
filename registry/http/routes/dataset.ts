import type { Hono } from "hono";
import { nameProblem } from "../../inventory/names.ts";
import { type AppEnv, ok } from "../context.ts";
import { BadRequest } from "../errors.ts";
import type { DatasetStatusSource } from "../dataset_status.ts";
import type { FileOperationDetail } from "../file_operations.ts";
import { collectParams, parseParams } from "../params.ts";
import { subscriptionDetailJson } from "./fileops.ts";

/** The files of one kind grouped by site, in site order. */
function bySite(files: FileOperationDetail[], kind: string) {
  const sites = Map.groupBy(files.filter((f) => f.kind === kind), (f) => f.site);
  return [...sites].sort(([a], [b]) => (a < b ? -1 : 1)).map(([site, list]) => ({
    site,
    files: list.length,
    pending: list.filter((f) => f.status !== "done" && f.status !== "cancelled").length,
    failing: list.filter((f) => f.lastError !== null).length,
    file_list: list.map(subscriptionDetailJson),
  }));
}

/** `/data/dataset/status`: where a dataset's work is (issue 15), answered by its dataset actor. */
export function datasetRoutes(app: Hono<AppEnv>, source: DatasetStatusSource): void {
  app.get("/data/dataset/status", async (c) => {
    const p = parseParams(await collectParams(c.req.raw, new URL(c.req.url), true), {
      dataset: { kind: "text", required: true },
    });
    const problem = nameProblem("dataset", p.dataset);
    if (problem) throw new BadRequest("dataset", problem);
    const work = await source.status(p.dataset!);
    return ok(c, {
      dataset: work.dataset,
      truncated: work.truncated,
      copies: bySite(work.files, "copy"),
      deletions: bySite(work.files, "deletion"),
      copy_requests: work.copyRequests.map((r) => ({
        request_id: r.id,
        user: r.user,
        status: r.status,
        reason: r.reason,
        items: r.items,
        sites: r.sites,
        actions: r.actions,
      })),
      deletion_requests: work.deletionRequests.map((r) => ({
        request_id: r.id,
        user: r.user,
        status: r.status,
        reason: r.reason,
        items: r.items,
        sites: r.sites,
        actions: r.actions,
      })),
    });
  });
}
