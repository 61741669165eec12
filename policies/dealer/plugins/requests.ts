/**
 * CopyRequestsHandler (spec §4.4): turns users' copy requests into Dealer
 * proposals with explicit destinations, and afterwards records what became of
 * each action. New requests are checked and activated here: unknown groups or
 * items, no target site among those listed, or items above `max_size` reject
 * the request; block lists above `block_request_max` of their dataset become
 * whole-dataset requests; with `n > 0` existing copies count first (a copy
 * owned by an overwritable group changes owner), and the rest are placed by
 * a draw weighted by free space among the listed target sites.
 *
 * A request that cannot be placed *now* (no listed site has room, or the
 * sites are down) is not refused: it stays `new` with the reason, and is
 * tried again every cycle until it is placed or `request_wait` has passed
 * since it was made; then it is rejected with the last reason. Actions the
 * engine refuses wait the same way. What can never succeed (unknown names,
 * too large, no site matches) is rejected at once.
 */
import type { Group, Snapshot } from "../../../registry/inventory/mod.ts";
import type { CopyAction, CopyRequest } from "../../../registry/requests/copy_request.ts";
import { settle } from "../../../registry/requests/copy_request.ts";
import {
  expandSites,
  itemAt,
  type ResolvedItem,
  resolveItem,
} from "../../../registry/requests/request_item.ts";
import type { RequestsConfig } from "../dealer_config.ts";
import { type RandomSource, weightedChoice } from "../interleave.ts";
import { type DealerDecision, type DealerProposal, decisionReason } from "../proposal.ts";
import type { DealerLedger } from "../target_sites.ts";

export interface RequestsContext {
  readonly snapshot: Snapshot;
  readonly name: string;
  readonly config: RequestsConfig;
  readonly defaultGroup: string;
  readonly ledger: DealerLedger;
  readonly rng: RandomSource;
  /** Unix seconds. */
  readonly now: number;
}

/** Activates new requests and proposes every action still to be placed. */
export function copyRequestProposals(
  ctx: RequestsContext,
  requests: readonly CopyRequest[],
): { proposals: DealerProposal[]; requests: CopyRequest[] } {
  const out: CopyRequest[] = [];
  const proposals: DealerProposal[] = [];
  for (const original of requests) {
    const activated = original.status === "new" ? activate(ctx, original) : original;
    if (typeof activated === "string") {
      out.push(waitOrReject(original, activated, ctx.config.requestWait, ctx.now));
      continue;
    }
    let r = activated;
    if (r.status !== "activated") {
      out.push(r);
      continue;
    }
    const group = r.group ?? ctx.defaultGroup;
    const groupId = ctx.snapshot.group(group)?.id;
    const actions = r.actions.map((a): CopyAction => {
      if (a.status !== "new") return a;
      const item = resolveItem(ctx.snapshot, a.item);
      const site = ctx.snapshot.site(a.site);
      if (typeof item === "string" || !site || groupId === undefined) {
        const reason = typeof item === "string"
          ? item
          : !site
          ? `unknown site "${a.site}"`
          : `unknown group "${group}"`;
        return { ...a, status: "failed", reason, updatedAt: ctx.now };
      }
      const at = itemAt(ctx.snapshot, item, site.id, groupId);
      if (at.state === "complete" && at.owned) {
        return { ...a, status: "completed", reason: null, updatedAt: ctx.now };
      }
      if (at.state === "partial" && at.owned) {
        return { ...a, status: "queued", reason: null, updatedAt: ctx.now };
      }
      proposals.push({
        plugin: ctx.name,
        datasetId: item.datasetId,
        blockIds: item.blockIds,
        destination: site.id,
        group,
        requestId: r.id,
        why: `request ${r.id} by ${r.user}`,
      });
      return a;
    });
    r = settle({ ...r, actions }, ctx.now);
    out.push(r);
  }
  return { proposals, requests: out };
}

/**
 * A request that cannot be placed now waits with the reason (visible in
 * poll), or is rejected with it once it has waited `requestWait` seconds.
 */
export function waitOrReject(r: CopyRequest, reason: string, requestWait: number, now: number): CopyRequest {
  const waited = now - r.createdAt;
  if (waited >= requestWait) {
    return { ...r, status: "rejected", reason: `not placed in ${days(waited)}: ${reason}`, updatedAt: now };
  }
  return r.reason === `waiting: ${reason}` ? r : { ...r, reason: `waiting: ${reason}`, updatedAt: now };
}

/**
 * After the Dealer decided: accepted actions are queued; rejected ones count
 * an attempt and wait, failing when `requestWait` seconds have passed since
 * the request was made (or the optional attempt budget is spent).
 */
export function afterDealer(
  snapshot: Snapshot,
  requests: readonly CopyRequest[],
  decisions: readonly DealerDecision[],
  limits: { maxAttempts: number; requestWait: number },
  now: number,
): CopyRequest[] {
  const { maxAttempts, requestWait } = limits;
  const byAction = new Map<string, DealerDecision>();
  for (const d of decisions) {
    if (d.proposal.requestId === undefined || d.proposal.destination === null) continue;
    byAction.set(actionKey(snapshot, d.proposal), d);
  }
  return requests.map((r) => {
    if (r.status !== "activated") return r;
    const actions = r.actions.map((a): CopyAction => {
      if (a.status !== "new") return a;
      const d = byAction.get(`${r.id}|${a.item}|${a.site}`);
      if (!d) return a;
      if (d.accepted) return { ...a, status: "queued", reason: null, updatedAt: now };
      const attempts = a.attempts + 1;
      const waited = now - r.createdAt;
      if (attempts >= maxAttempts || waited >= requestWait) {
        const span = attempts >= maxAttempts ? `${attempts} cycles` : days(waited);
        return {
          ...a,
          attempts,
          status: "failed",
          reason: `not placed in ${span}: ${decisionReason(d)}`,
          updatedAt: now,
        };
      }
      return { ...a, attempts, reason: `waiting: ${decisionReason(d)}`, updatedAt: now };
    });
    return settle({ ...r, actions }, now);
  });
}

function actionKey(snapshot: Snapshot, p: DealerProposal): string {
  const dataset = snapshot.datasetById(p.datasetId)!;
  const item = p.blockIds === null
    ? dataset.name
    : `${dataset.name}#${snapshot.blockById(p.blockIds[0]!)!.name}`;
  return `${p.requestId}|${item}|${snapshot.siteById(p.destination!)!.name}`;
}

/** Spec §4.4 step 2: a new request becomes activated, rejected or completed. */
function activate(ctx: RequestsContext, r: CopyRequest): CopyRequest | string {
  const { snapshot, config, ledger } = ctx;
  const reject = (reason: string): CopyRequest => ({ ...r, status: "rejected", reason, updatedAt: ctx.now });
  const groupName = r.group ?? ctx.defaultGroup;
  const group = snapshot.group(groupName);
  if (!group || group.name === null) return reject(`unknown group "${groupName}"`);
  const resolved: ResolvedItem[] = [];
  for (const item of r.items) {
    const x = resolveItem(snapshot, item);
    if (typeof x === "string") return reject(x);
    resolved.push(x);
  }
  const items = promoteBlockLists(snapshot, resolved, config.blockRequestMax);
  for (const item of items) {
    if (item.bytes > config.maxSize) {
      return reject(`${item.item} is ${tb(item.bytes)}, above the limit of ${tb(config.maxSize)}`);
    }
  }
  const listed = r.sites.length > 0 ? expandSites(snapshot, r.sites) : snapshot.sites();
  if (listed.length === 0) return reject("no known site matches the request");
  if (!listed.some((s) => ledger.isTarget(s.id))) return "none of the requested sites can receive copies now";
  const actions: CopyAction[] = [];
  const action = (item: ResolvedItem, site: string): CopyAction => ({
    item: item.item,
    site,
    status: "new",
    attempts: 0,
    reason: null,
    updatedAt: ctx.now,
  });
  if (r.n === 0) {
    for (const item of items) {
      for (const s of listed) {
        const at = itemAt(snapshot, item, s.id, group.id);
        if (at.state === "complete" && at.owned) continue;
        if (!ledger.isTarget(s.id) || !ledger.qualifies(s.id, item.bytes)) {
          return `${s.name} cannot receive ${item.item} now`;
        }
        actions.push(action(item, s.name));
      }
    }
  } else {
    for (const item of items) {
      const placed = placeCopies(ctx, item, listed.map((s) => s.id), group, r.n);
      if (typeof placed === "string") return placed;
      for (const siteId of placed) actions.push(action(item, snapshot.siteById(siteId)!.name));
    }
  }
  if (actions.length === 0) {
    return { ...r, status: "completed", reason: "already satisfied", updatedAt: ctx.now, actions: [] };
  }
  return { ...r, status: "activated", reason: null, updatedAt: ctx.now, actions };
}

/** Sites that need an action for `n` copies of the item, or why they cannot be found. */
function placeCopies(
  ctx: RequestsContext,
  item: ResolvedItem,
  siteIds: readonly number[],
  group: Group,
  n: number,
): number[] | string {
  const { snapshot, ledger, config } = ctx;
  const overwritable = new Set(config.overwrittenGroups.map((g) => snapshot.group(g)?.id));
  let have = 0;
  const flippable: number[] = [];
  const free: number[] = [];
  for (const siteId of siteIds) {
    const at = itemAt(snapshot, item, siteId, group.id);
    const present = at.state === "complete" || at.state === "partial";
    if (present && at.owned) have += 1;
    else if (at.state === "complete" && ownedBy(snapshot, item, siteId, overwritable)) flippable.push(siteId);
    else if (!present) free.push(siteId);
  }
  // More copies that may change owner than needed: the rest stay with their owners.
  const takeOver = flippable.slice(0, Math.max(0, n - have));
  let missing = n - have - takeOver.length;
  const candidates = free.filter((id) => ledger.isTarget(id) && ledger.qualifies(id, item.bytes));
  const picked: number[] = [];
  while (missing > 0) {
    const weights = candidates.map((id) => Math.max(1e-9, 1 - ledger.occupancyAfter(id, item.bytes)));
    const i = weightedChoice(weights, ctx.rng);
    if (i < 0) {
      return `cannot place ${n} copies of ${item.item}: ${have} exist, ${takeOver.length} can change owner, ` +
        `and only ${picked.length} more of the requested sites can take it`;
    }
    picked.push(candidates[i]!);
    candidates.splice(i, 1);
    missing -= 1;
  }
  return [...takeOver, ...picked];
}

function ownedBy(
  snapshot: Snapshot,
  item: ResolvedItem,
  siteId: number,
  groups: Set<number | undefined>,
): boolean {
  const dr = snapshot.replica(item.datasetId, siteId)!;
  const blocks = item.blockIds ?? snapshot.datasetById(item.datasetId)!.blockIds;
  return blocks.every((id) => {
    const i = dr.columns.indexOf(id);
    return groups.has(i >= 0 ? dr.columns.groupIdAt(i) : undefined);
  });
}

/** Block lists above `max` of their dataset's size become the whole dataset (spec §4.4). */
function promoteBlockLists(snapshot: Snapshot, items: ResolvedItem[], max: number): ResolvedItem[] {
  const byDataset = new Map<number, ResolvedItem[]>();
  const out: ResolvedItem[] = [];
  for (const it of items) {
    if (it.blockIds === null) out.push(it);
    else {
      const listed = byDataset.get(it.datasetId);
      if (listed) listed.push(it);
      else byDataset.set(it.datasetId, [it]);
    }
  }
  for (const [datasetId, blocks] of byDataset) {
    const dataset = snapshot.datasetById(datasetId)!;
    if (out.some((o) => o.datasetId === datasetId)) continue; // the whole dataset is asked for anyway
    const bytes = blocks.reduce((s, b) => s + b.bytes, 0);
    if (bytes > max * dataset.size) {
      out.push({ item: dataset.name, datasetId, blockIds: null, bytes: dataset.size });
    } else out.push(...blocks);
  }
  return out;
}

function days(seconds: number): string {
  return `${(seconds / 86400).toFixed(1)} days`;
}

function tb(bytes: number): string {
  return `${(bytes / 1e12).toFixed(1)} TB`;
}
