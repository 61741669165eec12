import type { Context, Hono } from "hono";
import type { Block, Dataset, DatasetReplica, Snapshot } from "../../inventory/mod.ts";
import type { CopyRequest } from "../../requests/copy_request.ts";
import type { DeletionRequest } from "../../requests/deletion_request.ts";
import { type AppEnv, ok } from "../context.ts";
import type { RequestRegistry } from "../request_registry.ts";
import { BadRequest } from "../errors.ts";
import { globParam } from "../param_patterns.ts";
import { collectParams, parseParams } from "../params.ts";
import type { InventoryReader } from "../inventory_access.ts";

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
    const snap = port.snapshot();
    // Nothing is suspended or moved here; neither dataset nor block: nothing (as the original).
    if (p.suspended || p.move) return ok(c, { dataset: [] });
    let datasetPattern: string;
    let blockPattern: ((name: string) => boolean) | null = null;
    if (p.dataset !== undefined) {
      if (p.dataset.includes("#")) return ok(c, { dataset: [] });
      datasetPattern = p.dataset;
    } else if (p.block !== undefined) {
      const [d, b] = p.block.split("#", 2);
      if (b === undefined) return ok(c, { dataset: [] });
      datasetPattern = d!;
      blockPattern = globParam(b);
    } else {
      return ok(c, { dataset: [] });
    }
    const node = p.node !== undefined ? globParam(p.node) : null;
    const wanted = (siteId: number, groupId: number) =>
      (!node || node(snap.siteById(siteId)!.name)) &&
      (p.group === undefined || (snap.groupById(groupId)?.name ?? "None") === p.group);
    return ok(c, {
      dataset: snap.datasetsMatching(datasetPattern).map((d) => {
        const blocks = blockPattern ? snap.blocksOf(d).filter((b) => blockPattern(b.name)) : [];
        return subscriptionJson(snap, d, blocks, wanted);
      }),
    });
  });
}

function subscriptionJson(
  snap: Snapshot,
  d: Dataset,
  blocks: Block[],
  wanted: (siteId: number, groupId: number) => boolean,
) {
  const replicas = snap.replicasOf(d.id);
  // A replica owned as a whole (its dataset replica has a group) is a dataset-level subscription.
  const owned = (dr: DatasetReplica) => dr.groupId !== 0;
  const block = blocks.map((b) => ({
    name: snap.blockFullName(b),
    id: b.id,
    bytes: b.size,
    files: b.numFiles,
    subscription: snap.blockReplicasOf(b)
      .filter((br) => wanted(br.siteId, br.groupId) && !owned(snap.replica(d.id, br.siteId)!))
      .map((br) => ({
        custodial: br.isCustodial ? "y" : "n",
        group: snap.groupById(br.groupId)?.name ?? null,
        level: "BLOCK",
        node: snap.siteById(br.siteId)!.name,
        node_id: br.siteId,
        node_bytes: br.size,
        percent_bytes: br.fileIds === null ? 100 : 0,
        percent_files: br.fileIds === null ? 100 : 0,
        suspend_until: null,
        time_update: br.lastUpdate,
      })),
  })).filter((b) => b.subscription.length > 0);
  const subscription = replicas
    .filter((dr) => wanted(dr.siteId, dr.groupId) && (owned(dr) || blocks.length === 0))
    .map((dr) => {
      const site = snap.siteById(dr.siteId)!;
      let completeBytes = 0;
      let completeFiles = 0;
      for (const br of dr.blockReplicas) {
        if (br.fileIds !== null) continue;
        const b = snap.blockById(br.blockId)!;
        completeBytes += b.size;
        completeFiles += b.numFiles;
      }
      return {
        custodial: site.name.includes("_MSS") ? "y" : "n",
        group: snap.groupById(dr.groupId)?.name ?? null,
        level: "DATASET",
        node: site.name,
        node_id: site.id,
        node_bytes: dr.blockReplicas.reduce((s, br) => s + br.size, 0),
        percent_bytes: d.size > 0 ? (100 * completeBytes) / d.size : 0,
        percent_files: d.numFiles > 0 ? (100 * completeFiles) / d.numFiles : 0,
        suspend_until: null,
        time_update: dr.blockReplicas.reduce((t, br) => Math.max(t, br.lastUpdate), 0),
      };
    });
  return {
    name: d.name,
    id: d.id,
    bytes: d.size,
    files: d.numFiles,
    is_open: d.isOpen ? "y" : "n",
    subscription,
    ...(block.length > 0 ? { block } : {}),
  };
}
