import type { Hono } from "hono";
import { BadRequest } from "../errors.ts";
import { type AppEnv, ok } from "../context.ts";
import { collectParams, parseParams } from "../params.ts";
import { INJECTION_STATES, type InjectionState, type InjectionTracker } from "../inventory_access.ts";

const MAX_LIMIT = 1000;

/**
 * `/data/inventory/injections`: the queue of asynchronous injections, newest
 * first, so that an operator sees what is waiting and what was moved aside as
 * `failed` (a poison injection) with its error.
 */
export function injectionRoutes(app: Hono<AppEnv>, port: InjectionTracker): void {
  app.get("/data/inventory/injections", async (c) => {
    const p = parseParams(await collectParams(c.req.raw, new URL(c.req.url), true), {
      status: { kind: "text" },
      before: { kind: "int" },
      limit: { kind: "int" },
    });
    if (p.status !== undefined && !(INJECTION_STATES as readonly string[]).includes(p.status)) {
      throw new BadRequest(
        "status",
        `expected one of ${INJECTION_STATES.join(", ")}, got ${JSON.stringify(p.status)}`,
      );
    }
    const limit = p.limit ?? 100;
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new BadRequest("limit", `expected 1 to ${MAX_LIMIT}, got ${limit}`);
    }
    if (p.before !== undefined && p.before < 1) {
      throw new BadRequest("before", `expected an id, got ${p.before}`);
    }
    const records = await port.injections({
      limit,
      ...(p.status !== undefined ? { status: p.status as InjectionState } : {}),
      ...(p.before !== undefined ? { beforeId: p.before } : {}),
    });
    return ok(
      c,
      records.map((r) => ({
        id: r.id,
        kind: r.kind,
        user: r.user,
        created: Math.floor(r.createdMs / 1000),
        status: r.status,
        attempts: r.attempts,
        error: r.lastError,
        applied_generation: r.appliedSeq,
      })),
    );
  });
}
