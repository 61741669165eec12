/**
 * The Dealer and deletions in flight on the same dataset (issue 15): a copy to a site where a user's
 * deletion of the block is in flight is refused with the reason (the request waits, the cycle's
 * history says why), and a deletion committed after the Dealer's snapshot makes the writer's
 * `no_conflict` re-check refuse the cycle's copies.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dealerConfig, dealerFederation, NOW, rng, snap } from "../../tests/helpers/dealer.ts";
import type { CopyRequest } from "../../registry/requests/copy_request.ts";
import { type DeletionRequest, planDeletionRequests } from "../../registry/requests/deletion_request.ts";
import { firstFailedPrecondition, type Snapshot } from "../../registry/inventory/mod.ts";
import type { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { CycleBudget } from "../cycle_budget.ts";
import { decideDealerCycle } from "./dealer_decision.ts";
import { runDealer } from "./dealer_engine.ts";

const GB = 1e9;
const TB = 1e12;

function copyRequest(id: number, items: string[], sites: string[]): CopyRequest {
  return {
    id,
    user: "alice",
    group: null,
    n: 1,
    items,
    sites,
    status: "new",
    reason: null,
    createdAt: NOW,
    updatedAt: NOW,
    lastRequestAt: NOW,
    requestCount: 1,
    actions: [],
  };
}

function deletionRequest(id: number, items: string[], sites: string[]): DeletionRequest {
  return {
    id,
    user: "bob",
    items,
    sites,
    status: "new",
    reason: null,
    createdAt: NOW,
    updatedAt: NOW,
    lastRequestAt: NOW,
    requestCount: 1,
    actions: [],
  };
}

/** /Two (two blocks) at T2_A and T2_B; /One only at T2_A. */
function federation(): ReducerHarness {
  return dealerFederation(
    ["T2_A", "T2_B", "T2_C"].map((name) => ({ name, quota: 100 * TB })),
    [
      { name: "/Two/X/AOD", blocks: 2, fileSize: GB, at: ["T2_A", "T2_B"] },
      { name: "/One/X/AOD", blocks: 1, fileSize: GB, at: ["T2_A"] },
    ],
  );
}

/** A user's deletion request carried out as the tracker commits it: the replica passes to the null group. */
function userDeletes(h: ReducerHarness, items: string[], site: string): void {
  const work = planDeletionRequests(snap(h), [deletionRequest(9, items, [site])], () => undefined, NOW);
  assertEquals(work.requests[0]!.status, "activated", JSON.stringify(work.requests[0]));
  h.apply(...work.commands as unknown as Record<string, unknown>[]);
}

function decide(snapshot: Snapshot, requests: CopyRequest[]) {
  return decideDealerCycle(
    snapshot,
    dealerConfig({ plugins: { requests: JSON.parse(REQUESTS) } }),
    { now: NOW, copyRequests: requests, jobs: [], detox: null, transferOutcomes: new Map() },
    null,
    rng(1),
    new CycleBudget({ budgetMs: 60_000, now: () => 0, yieldNow: () => Promise.resolve() }),
  );
}

const REQUESTS = JSON.stringify({
  module: "CopyRequestsHandler",
  priority: 1,
  config: { max_size: 200, block_request_max: 0.5, overwritten_groups: ["DataOps"], request_wait: 7 },
});

Deno.test("a Dealer copy to a site where a user's deletion of the dataset is in flight is refused with the reason", async () => {
  const h = federation();
  userDeletes(h, ["/Two/X/AOD"], "T2_B");
  const decision = await decide(snap(h), [
    // Activated by an earlier cycle (T2_B was full then), before the user's deletion there started.
    {
      ...copyRequest(1, ["/Two/X/AOD"], ["T2_B"]),
      status: "activated",
      actions: [{
        item: "/Two/X/AOD",
        site: "T2_B",
        status: "new",
        attempts: 0,
        reason: null,
        updatedAt: NOW,
      }],
    },
    copyRequest(2, ["/One/X/AOD"], ["T2_B"]), // free
  ]);
  assert(decision.kind === "decided");
  const rows = decision.decisions.map((d) => [d.requestId, d.site, d.accepted, d.reason]);
  assertEquals(rows.length, 2, JSON.stringify(rows));
  const [two, one] = [rows.find((r) => r[0] === 1)!, rows.find((r) => r[0] === 2)!];
  assertEquals(one, [2, "T2_B", true, ""]);
  assertEquals(two.slice(0, 3), [1, "T2_B", false]);
  assertEquals(
    two[3],
    'Conflicting operation in flight: the copy of "/Two/X/AOD#b0" at "T2_B" is being deleted',
  );
  assertEquals(decision.rejections, { "Conflicting operation in flight": 1 });
  // Nothing of /Two is committed at T2_B (the deletion is not undone by a change of owner).
  assertEquals(decision.operations.map((o) => [o.site, o.dataset]), [["T2_B", "/One/X/AOD"]]);
  assert(
    decision.commands.every((c) => !("dataset" in c) || c.dataset !== "/Two/X/AOD"),
    JSON.stringify(decision.commands),
  );
  // The request waits with the reason, it does not fail.
  const after = decision.copyRequests.find((r) => r.id === 1)!;
  assertEquals(after.status, "activated");
  assertEquals(after.actions.map((a) => [a.site, a.status, a.reason]), [[
    "T2_B",
    "new",
    'waiting: Conflicting operation in flight: the copy of "/Two/X/AOD#b0" at "T2_B" is being deleted',
  ]]);
});

Deno.test("a user's deletion committed after the Dealer's snapshot makes the writer refuse the copy (no_conflict)", async () => {
  const h = federation();
  const decided = await decide(snap(h), [copyRequest(1, ["/One/X/AOD"], ["T2_C"])]);
  assert(decided.kind === "decided");
  assertEquals(decided.operations.map((o) => [o.site, o.dataset]), [["T2_C", "/One/X/AOD"]]);
  assert(
    decided.preconditions.some((p) => p.op === "no_conflict" && p.dataset === "/One/X/AOD"),
    JSON.stringify(decided.preconditions),
  );
  assertEquals(firstFailedPrecondition(snap(h), decided.preconditions), null, "nothing changed: it applies");
  // A copy of /One to T2_C by another hand lands and a user's deletion of it there starts, before the
  // Dealer's commit: the Dealer's copy to T2_C would now meet the deletion in flight.
  h.apply(
    {
      op: "dataset_replica.upsert",
      dataset: "/One/X/AOD",
      site: "T2_C",
      group: "AnalysisOps",
      growing: false,
    },
    { op: "block_replica.upsert", dataset: "/One/X/AOD", block: "b0", site: "T2_C" },
  );
  userDeletes(h, ["/One/X/AOD"], "T2_C");
  const problem = firstFailedPrecondition(snap(h), decided.preconditions);
  assertMatch(
    problem ?? "",
    /^conflict \(wait\): the copy of "\/One\/X\/AOD#b0" at "T2_C" is being deleted$/,
  );
});

Deno.test("the Dealer choosing a destination passes over a site where a block of the dataset is being deleted", () => {
  const h = federation();
  // /Two#b0 is being deleted at T2_B by a user; /Two#b1 is gone from there. A copy of /Two anywhere:
  // T2_B lacks only b1, but a copy of the dataset there meets the deletion of b0.
  userDeletes(h, ["/Two/X/AOD#b0"], "T2_B");
  h.apply({ op: "block_replica.delete", dataset: "/Two/X/AOD", block: "b1", site: "T2_B" });
  const s = snap(h);
  const propose = (targets: string[], seed = 1) =>
    runDealer({
      snapshot: s,
      config: dealerConfig({ target_sites: targets }),
      proposals: new Map([["popularity", [{
        plugin: "popularity",
        datasetId: s.dataset("/Two/X/AOD")!.id,
        blockIds: null,
        destination: null,
        group: null,
        why: "popular",
      }]]]),
      rng: rng(seed),
    });
  for (let seed = 1; seed <= 5; seed++) {
    const free = propose(["T2_B", "T2_C"], seed);
    assertEquals(free.copies.map((c) => s.siteById(c.siteId)!.name), ["T2_C"]);
  }
  const none = propose(["T2_B"]);
  assertEquals(none.copies, []);
  assertEquals(none.decisions.map((d) => [d.accepted, d.reason, d.detail]), [[
    false,
    "Conflicting operation in flight",
    'the copy of "/Two/X/AOD#b0" at "T2_B" is being deleted',
  ]]);
});
