import type { Context, Hono } from "hono";
import {
  compileGlob,
  injectionToCommands,
  invalidationToCommands,
  type InventoryCommand,
  InventoryValidationError,
  MAX_QUOTA_BYTES,
  SITE_STATUSES,
  splitBlockFullName,
  summarizeOutcomes,
} from "../../inventory/mod.ts";
import { getLogger } from "@logtape/logtape";
import { BadRequest, HttpError } from "../errors.ts";
import { DEPRECATED_KEYS, renameDeprecatedKeys } from "../injection_aliases.ts";
import { type AppEnv, ok, requireRole } from "../context.ts";
import { collectParams, parseParams, readJson } from "../params.ts";
import type { CommandSubmitter, InjectionTracker, InventoryReader } from "../inventory_access.ts";
import { heavyRead } from "../heavy_read.ts";
import { budgetOf, type RequestBudget } from "../request_budget.ts";

/** `/data/inventory/*`: the original inventory module (spec §8.2). */
export function inventoryRoutes(
  app: Hono<AppEnv>,
  port: InventoryReader & CommandSubmitter & InjectionTracker,
): void {
  app.get("/data/inventory/datasets", async (c) => {
    const p = parseParams(await input(c), { dataset: { kind: "text" } });
    // As the original: no pattern, no listing (a full dump is `dataset=*`).
    if (p.dataset === undefined) return ok(c, []);
    return ok(c, await heavyRead(port, c, { kind: "datasets", pattern: p.dataset }));
  });

  app.get("/data/inventory/groups", async (c) => {
    const p = parseParams(await input(c), { group: { kind: "text" } });
    const groups = port.snapshot().groups();
    if (p.group === undefined) {
      return ok(c, groups.map((g) => ({ name: g.name ?? "(no group)", olevel: g.olevel })));
    }
    const re = compileGlob(p.group);
    return ok(
      c,
      groups.filter((g) => g.name !== null && re.test(g.name)).map((g) => ({
        name: g.name,
        olevel: g.olevel,
      })),
    );
  });

  app.get("/data/inventory/sites", async (c) => {
    const p = parseParams(await input(c), { site: { kind: "list" }, partition: { kind: "list" } });
    const snap = port.snapshot();
    const sites = p.site ? await matching(snap.sites(), p.site, (s) => s.name, budgetOf(c)) : snap.sites();
    const partitions = p.partition
      ? await matching(snap.partitions(), p.partition, (x) => x.name, budgetOf(c))
      : snap.partitions();
    return ok(
      c,
      sites.map((site) => {
        let totalQuota = 0;
        let totalUsage = 0;
        let totalProjected = 0;
        for (const partition of snap.state.partitions.basic) {
          const u = snap.sitePartition(site.id, partition)!;
          totalQuota += u.quota;
          totalUsage += u.physical;
          totalProjected += u.projected;
        }
        return {
          name: site.name,
          host: site.host,
          storage_type: site.storageType,
          backend: site.backend,
          status: site.status,
          num_dataset_replicas: snap.replicaCountAt(site.id),
          partitions: partitions.map((partition) => {
            const u = snap.sitePartition(site.id, partition)!;
            return {
              name: partition.name,
              type: partition.bit === null ? "composite" : "basic",
              quota: u.quota,
              usage: u.physical,
              projected_usage: u.projected,
              occupancy: finiteOrNull(u.occupancy),
              projected_occupancy: finiteOrNull(u.projectedOccupancy),
            };
          }),
          total_quota: totalQuota,
          total_usage: totalUsage,
          total_projected_usage: totalProjected,
        };
      }),
    );
  });

  app.get("/data/inventory/blockreplicas", async (c) => {
    const p = parseParams(await input(c), {
      block: { kind: "text" },
      dataset: { kind: "text" },
      node: { kind: "text" },
      complete: { kind: "yn" },
      group: { kind: "text" },
      update_since: { kind: "int" },
      create_since: { kind: "int" },
    });
    let dataset: string;
    let block: string | null = null;
    if (p.block !== undefined) {
      const parts = splitBlockFullName(p.block);
      if (!parts) throw new BadRequest("block", `expected DATASET#BLOCK, got ${JSON.stringify(p.block)}`);
      [dataset, block] = parts;
    } else if (p.dataset !== undefined) {
      dataset = p.dataset;
    } else {
      return ok(c, { block: [] });
    }
    const query = {
      dataset,
      block,
      node: p.node ?? null,
      complete: p.complete ?? null,
      group: p.group ?? null,
      since: Math.max(p.update_since ?? 0, p.create_since ?? 0),
    };
    return ok(c, await heavyRead(port, c, { kind: "blockreplicas", query }));
  });

  app.post("/data/inventory/inject", (c) => enqueue(c, port, "inject"));
  app.post("/data/inventory/delete", (c) => enqueue(c, port, "delete"));
  app.post("/data/inventory/injectsync", (c) => applyNow(c, port, "inject"));
  app.post("/data/inventory/deletesync", (c) => applyNow(c, port, "delete"));

  app.post("/data/inventory/setquota", async (c) => {
    requireRole(c, "inventory", ["admin"]);
    const p = parseParams(await input(c), {
      site: { kind: "text", required: true },
      partition: { kind: "text", required: true },
      quota: { kind: "text", required: true },
    });
    const quota = parseBytes(p.quota!);
    if (quota === null) {
      throw new BadRequest(
        "quota",
        `expected bytes, e.g. 500TB, 1.5PB, 0 (none) or -1 (infinite), got ${JSON.stringify(p.quota)}`,
      );
    }
    const command = { op: "quota.set", site: p.site!, partition: p.partition!, quota } as InventoryCommand;
    const result = await port.submit({ commands: [command], atomic: true }, c.req.raw.signal);
    if (!result.ok) throw new HttpError(503, result.error, 5);
    const outcome = result.outcomes[0]!;
    if (outcome.status === "rejected") {
      throw new BadRequest(outcome.error.field ?? "site", outcome.error.reason);
    }
    return ok(c, { site: p.site, partition: p.partition, quota, generation: result.generation });
  });

  app.post("/data/inventory/setstatus", async (c) => {
    requireRole(c, "inventory", ["admin"]);
    const p = parseParams(await input(c), {
      site: { kind: "text", required: true },
      status: { kind: "text", required: true },
    });
    if (!SITE_STATUSES.includes(p.status as typeof SITE_STATUSES[number])) {
      throw new BadRequest(
        "status",
        `expected one of ${SITE_STATUSES.join(", ")}, got ${JSON.stringify(p.status)}`,
      );
    }
    // An upsert would create a site: only existing sites change status here.
    if (!port.snapshot().site(p.site!)) {
      throw new BadRequest("site", `unknown site ${JSON.stringify(p.site)}`);
    }
    const command = { op: "site.upsert", name: p.site!, status: p.status } as InventoryCommand;
    const result = await port.submit({ commands: [command], atomic: true }, c.req.raw.signal);
    if (!result.ok) throw new HttpError(503, result.error, 5);
    const outcome = result.outcomes[0]!;
    if (outcome.status === "rejected") {
      throw new BadRequest(outcome.error.field ?? "site", outcome.error.reason);
    }
    return ok(c, { site: p.site, status: p.status, generation: result.generation });
  });

  app.get("/data/inventory/injection", async (c) => {
    const p = parseParams(await input(c), { id: { kind: "int", required: true } });
    const record = await port.injection(p.id!);
    if (!record) throw new HttpError(404, `No injection with id ${p.id}`);
    return ok(c, {
      id: record.id,
      kind: record.kind,
      user: record.user,
      created: Math.floor(record.createdMs / 1000),
      status: record.status,
      result: record.result,
      applied_generation: record.appliedSeq,
      attempts: record.attempts,
      error: record.lastError,
    });
  });
}

function input(c: Context<AppEnv>) {
  return collectParams(c.req.raw, new URL(c.req.url), true);
}

/** Matches names against a list of exact names or wildcards; unknown names simply match nothing. */
async function matching<T>(items: T[], patterns: string[], name: (t: T) => string, budget: RequestBudget) {
  const res = patterns.map(compileGlob);
  const out: T[] = [];
  for (const item of items) {
    for (const re of res) {
      await budget.tick();
      if (re.test(name(item))) {
        out.push(item);
        break;
      }
    }
  }
  return out;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15 };

/** `500TB`, `1.5 PB`, `123456` → bytes (SI units, as storage is quoted at sites). */
export function parseBytes(text: string): number | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([kKmMgGtTpP]?[bB])?\s*$/.exec(text);
  if (!m) return null;
  const bytes = Number(m[1]) * (m[2] ? UNITS[m[2].toUpperCase()]! : 1);
  const rounded = Math.round(bytes);
  return Number.isFinite(rounded) && Math.abs(rounded) <= MAX_QUOTA_BYTES ? rounded : null;
}

/** Reads and structurally validates an injection or invalidation document. */
async function documentCommands(
  c: Context<AppEnv>,
  kind: "inject" | "delete",
): Promise<{ doc: unknown; commands: InventoryCommand[] }> {
  const url = new URL(c.req.url);
  if ([...url.searchParams.keys()].length > 0) {
    throw new BadRequest(
      [...url.searchParams.keys()][0]!,
      "unknown parameter; the document goes in the JSON body",
    );
  }
  const sent = await readJson(c.req.raw);
  if (sent === null) throw new BadRequest("body", "expected a JSON document");
  const { doc, deprecated } = renameDeprecatedKeys(sent);
  for (const key of deprecated) {
    getLogger(["dynamo", "http"]).warn(
      "Deprecated key {key} (an {kind} document from {user}): send {name} instead",
      {
        key,
        kind: kind === "inject" ? "injection" : "invalidation",
        user: c.get("principal")?.user ?? null,
        name: DEPRECATED_KEYS[key],
        requestId: c.get("requestId"),
      },
    );
  }
  try {
    return { doc, commands: kind === "inject" ? injectionToCommands(doc) : invalidationToCommands(doc) };
  } catch (e) {
    if (e instanceof InventoryValidationError) throw new BadRequest(e.field ?? "body", e.reason);
    throw e;
  }
}

async function enqueue(c: Context<AppEnv>, port: InjectionTracker, kind: "inject" | "delete") {
  const principal = requireRole(c, "inventory", ["admin"]);
  const { doc, commands } = await documentCommands(c, kind);
  if (commands.length === 0) throw new BadRequest("body", "the document contains nothing to do");
  const id = await port.enqueueInjection(kind, doc, principal.user);
  return ok(
    c,
    { injection_id: id, commands: commands.length },
    kind === "inject"
      ? "Data will be injected in the regular update cycle later. Poll /data/inventory/injection?id=" + id
      : "Data will be deleted in the regular update cycle later. Poll /data/inventory/injection?id=" + id,
  );
}

async function applyNow(c: Context<AppEnv>, port: CommandSubmitter, kind: "inject" | "delete") {
  requireRole(c, "inventory", ["admin"]);
  const { commands } = await documentCommands(c, kind);
  if (commands.length === 0) throw new BadRequest("body", "the document contains nothing to do");
  const result = await port.submit({ commands, atomic: true }, c.req.raw.signal);
  if (!result.ok) throw new HttpError(503, result.error, 5);
  // An invalidation while a deletion of the dataset is in flight: nothing applied, ask again later.
  if (result.refused) throw new HttpError(409, result.refused);
  const summary = summarizeOutcomes(commands, result.outcomes);
  const first = summary.rejected[0];
  if (first) {
    // Atomic: nothing was applied. Name the first offending object and field.
    const e = new BadRequest(first.field ? `${first.object}.${first.field}` : first.object, first.reason);
    (e as BadRequest & { data?: unknown }).data = summary;
    throw e;
  }
  return ok(
    c,
    { generation: result.generation, ...summary },
    kind === "inject" ? "Data is injected." : "Data is deleted.",
  );
}
