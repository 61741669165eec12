import type { Context, Hono } from "hono";
import { type AppEnv, ok } from "../context.ts";
import type { DetoxRegistry } from "../detox_registry.ts";
import { BadRequest, HttpError } from "../errors.ts";
import type { FileOperations } from "../file_operations.ts";
import { collectParams, parseParams } from "../params.ts";
import { subscriptionDetailJson } from "./fileops.ts";

/** Pages are at most this long: a monitor never lists a whole site or the whole inventory at once. */
export const MAX_PAGE = 1000;

/**
 * Paged reads the web monitor needs beyond the original API (public, in OpenAPI):
 * `/data/detox/replicas` (a site's decisions in a cycle, a page at a time, with the
 * policy line's text) and `/data/transfers/files` (the file operations of a dataset
 * at a site, with their last error: what a request is waiting for).
 */
export function webDataRoutes(
  app: Hono<AppEnv>,
  { detox, fileops }: { detox?: DetoxRegistry | undefined; fileops?: FileOperations | undefined },
): void {
  const input = (c: Context<AppEnv>) => collectParams(c.req.raw, new URL(c.req.url), false);
  const page = (p: { offset?: number; limit?: number }) => {
    if (p.offset !== undefined && p.offset < 0) throw new BadRequest("offset", "must not be negative");
    if (p.limit !== undefined && (p.limit < 1 || p.limit > MAX_PAGE)) {
      throw new BadRequest("limit", `must be from 1 to ${MAX_PAGE}`);
    }
    return { offset: p.offset ?? 0, limit: p.limit ?? 100 };
  };

  if (detox) {
    app.get("/data/detox/replicas", async (c) => {
      const p = parseParams(await input(c), {
        cycle: { kind: "int", required: true },
        site: { kind: "text", required: true },
        offset: { kind: "int" },
        limit: { kind: "int" },
      });
      const { offset, limit } = page(p);
      const cycle = await detox.cycle(p.cycle!);
      if (!cycle) throw new HttpError(404, `No Detox cycle ${p.cycle}`);
      // One more than the page tells whether there is a next one.
      const rows = await detox.decisions(cycle.id, { site: p.site!, limit: offset + limit + 1 });
      const lines = cycle.policyText.split(/\r?\n/);
      return ok(c, {
        cycle: cycle.id,
        site: p.site,
        offset,
        more: rows.length > offset + limit,
        replicas: rows.slice(offset, offset + limit).map((r) => ({
          dataset: r.dataset,
          decision: r.decision,
          size: r.size,
          blocks: r.blocks.length,
          line: r.line,
          // A held-back replica says why; the others, the line that decided them.
          reason: r.reason ?? (r.line ? lines[r.line - 1]?.trim() ?? "" : ""),
        })),
      });
    });
  }

  if (fileops) {
    app.get("/data/transfers/files", async (c) => {
      const p = parseParams(await input(c), {
        dataset: { kind: "text", required: true },
        site: { kind: "text", required: true },
        kind: { kind: "text" },
        offset: { kind: "int" },
        limit: { kind: "int" },
      });
      if (p.kind !== undefined && p.kind !== "copy" && p.kind !== "deletion") {
        throw new BadRequest("kind", `expected copy or deletion, got ${JSON.stringify(p.kind)}`);
      }
      const { offset, limit } = page(p);
      const rows = await fileops.files({
        dataset: p.dataset!,
        site: p.site!,
        ...(p.kind ? { kind: p.kind as "copy" | "deletion" } : {}),
        offset,
        limit: limit + 1,
      });
      return ok(c, {
        offset,
        more: rows.length > limit,
        files: rows.slice(0, limit).map(subscriptionDetailJson),
      });
    });
  }
}
