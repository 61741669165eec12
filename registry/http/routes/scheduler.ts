import type { Context, Hono } from "hono";
import { type AppEnv, ok, requireRole } from "../context.ts";
import { BadRequest, HttpError } from "../errors.ts";
import { collectParams, parseParams } from "../params.ts";
import type { ApplicationRow, SchedulerAnswer, SchedulerControl, SequenceRow } from "../scheduler_control.ts";

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
/** One argument of an application: printable, no NUL or line breaks (it may reach a program's argv). */
// deno-lint-ignore no-control-regex
const ARG = /^[^\x00-\x1f\x7f]{1,1000}$/;

const seconds = (ms: number) => Math.floor(ms / 1000);

function sequenceJson(v: SequenceRow) {
  return {
    name: v.name,
    enabled: v.enabled,
    restart: v.restart,
    position: v.position,
    steps: v.steps,
    line: v.line,
    status: v.status,
    not_before: v.notBefore === null ? null : seconds(v.notBefore),
  };
}

function applicationJson(r: ApplicationRow) {
  return {
    id: r.id,
    title: r.title,
    args: r.args.join(" "),
    write: r.write,
    sequence: r.sequence,
    user: r.user,
    status: r.status,
    message: r.message,
    created: seconds(r.createdMs),
    started: r.startedMs === null ? null : seconds(r.startedMs),
    finished: r.finishedMs === null ? null : seconds(r.finishedMs),
  };
}

/** `/data/scheduler/*`: sequences and application runs (spec §7). Writes need admin or operator on application. */
export function schedulerRoutes(app: Hono<AppEnv>, scheduler: SchedulerControl): void {
  const input = (c: Context<AppEnv>) => collectParams(c.req.raw, new URL(c.req.url), true);
  const answer = <T>(c: Context<AppEnv>, reply: SchedulerAnswer<T>, message?: string) => {
    if (typeof reply === "object" && reply !== null && "error" in reply) {
      throw new HttpError(409, reply.error);
    }
    return ok(c, reply as T, message);
  };
  const name = (value: string | undefined, param: string) => {
    if (value === undefined || !NAME.test(value)) {
      throw new BadRequest(
        param,
        `expected a name of letters, digits, '_', '.', '-', got ${JSON.stringify(value)}`,
      );
    }
    return value;
  };

  app.get("/data/scheduler/sequences", async (c) => ok(c, (await scheduler.sequences()).map(sequenceJson)));

  for (const action of ["start", "stop"] as const) {
    app.post(`/data/scheduler/sequence/${action}`, async (c) => {
      requireRole(c, "application", ["admin", "operator"]);
      const p = parseParams(await input(c), { sequence: { kind: "text", required: true } });
      const sequence = name(p.sequence, "sequence");
      const reply = action === "start"
        ? await scheduler.startSequence(sequence)
        : await scheduler.stopSequence(sequence);
      const shaped = "error" in reply ? reply : sequenceJson(reply);
      return answer(c, shaped, `sequence ${sequence}: ${action === "start" ? "started" : "stopped"}`);
    });
  }

  app.get("/data/scheduler/applications", async (c) => {
    const p = parseParams(await input(c), { limit: { kind: "int" } });
    if (p.limit !== undefined && (p.limit < 1 || p.limit > 10_000)) {
      throw new BadRequest("limit", "must be from 1 to 10000");
    }
    return ok(c, (await scheduler.applications(p.limit ?? 100)).map(applicationJson));
  });

  app.post("/data/scheduler/application/run", async (c) => {
    const principal = requireRole(c, "application", ["admin", "operator"]);
    const p = parseParams(await input(c), { app: { kind: "text", required: true }, arg: { kind: "list" } });
    const title = name(p.app, "app");
    const args = p.arg ?? [];
    if (args.length > 50) throw new BadRequest("arg", "at most 50 arguments");
    for (const a of args) {
      if (!ARG.test(a)) {
        throw new BadRequest("arg", `not an acceptable argument: ${JSON.stringify(a.slice(0, 100))}`);
      }
    }
    return answer(
      c,
      await scheduler.runApplication(title, args, principal.user),
      `application ${title} queued`,
    );
  });

  app.post("/data/scheduler/application/kill", async (c) => {
    requireRole(c, "application", ["admin", "operator"]);
    const p = parseParams(await input(c), { id: { kind: "int", required: true } });
    if (p.id! < 1) throw new BadRequest("id", "must be a run id (a positive integer)");
    return answer(c, await scheduler.killApplication(p.id!));
  });
}
