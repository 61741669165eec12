import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/helpers/assert.ts";
import {
  applyPlan,
  completeTransfers,
  dealerConfig,
  dealerFederation,
  fullCopies,
  NOW,
  rng,
  snap,
} from "../../tests/helpers/dealer.ts";
import {
  checkCopySubmission,
  type CopyRequest,
  trackCopyRequest,
} from "../../registry/requests/copy_request.ts";
import {
  type DeletionRequest,
  planDeletionRequests,
  trackDeletionRequest,
} from "../../registry/requests/deletion_request.ts";
import { InventoryValidationError } from "../../registry/inventory/mod.ts";
import { dealerCycle } from "./dealer_cycle.ts";

const GB = 1e9;
const TB = 1e12;

function request(id: number, fields: Partial<CopyRequest>): CopyRequest {
  return {
    id,
    user: "alice",
    group: null,
    n: 1,
    items: [],
    sites: [],
    status: "new",
    reason: null,
    createdAt: NOW,
    updatedAt: NOW,
    lastRequestAt: NOW,
    requestCount: 1,
    actions: [],
    ...fields,
  };
}

function federation() {
  return dealerFederation(
    [
      { name: "T2_A", quota: 100 * TB },
      { name: "T2_B", quota: 100 * TB },
      { name: "T2_C", quota: 100 * TB },
      { name: "T2_TINY", quota: 10 * GB },
    ],
    [
      { name: "/Req/One/AOD", blocks: 4, fileSize: GB, at: ["T2_A"] },
      { name: "/Req/Old/AOD", blocks: 1, fileSize: GB, at: ["T2_A", "T2_B"], group: "DataOps" },
      { name: "/Req/Big/AOD", blocks: 2, fileSize: 100 * GB, at: ["T2_A"] },
    ],
  );
}

function cycle(h: ReturnType<typeof federation>, requests: CopyRequest[], seed = 1, now = NOW) {
  return dealerCycle({
    snapshot: snap(h),
    config: dealerConfig(),
    rng: rng(seed),
    now,
    copyRequests: requests,
    jobs: [],
    enforcer: null,
    detox: null,
    transferOutcomes: new Map(),
  });
}

Deno.test("a request for unknown data, an unknown group or no known site is rejected; one without room waits", () => {
  const h = federation();
  const out = cycle(h, [
    request(1, { items: ["/No/Such/AOD"] }),
    request(2, { items: ["/Req/One/AOD#nope"] }),
    request(3, { items: ["/Req/One/AOD"], group: "Nobody" }),
    request(4, { items: ["/Req/One/AOD"], sites: ["T9_*"] }),
    request(5, { items: ["/Req/One/AOD"], sites: ["T2_B", "T2_TINY"], n: 0 }),
    request(6, { items: ["/Req/Big/AOD"], sites: ["T2_TINY"] }),
  ]);
  assertEquals(out.copyRequests.map((r) => [r.status, r.reason]), [
    ["rejected", 'unknown dataset "/No/Such/AOD"'],
    ["rejected", 'unknown block "/Req/One/AOD#nope"'],
    ["rejected", 'unknown group "Nobody"'],
    ["rejected", "no known site matches the request"],
    ["new", "waiting: T2_TINY cannot receive /Req/One/AOD now"],
    [
      "new",
      "waiting: cannot place 1 copies of /Req/Big/AOD: 0 exist, 0 can change owner, and only 0 more of the requested sites can take it",
    ],
  ]);
  assertEquals(out.plan.commands, [], "nothing is copied for a rejected or waiting request");
});

Deno.test("a request that waits is placed once room appears, and rejected with the last reason after request_wait", () => {
  const h = federation();
  const day = 86400;
  // T2_B is down: the request waits, cycle after cycle, with the reason.
  h.apply({ op: "site.upsert", name: "T2_B", status: "morgue" });
  let requests = [
    request(1, { items: ["/Req/One/AOD"], sites: ["T2_B"] }),
    request(2, { items: ["/Req/Big/AOD"], sites: ["T2_TINY"] }),
  ];
  for (let d = 0; d < 3; d++) requests = cycle(h, requests, d, NOW + d * day).copyRequests;
  assertEquals(requests.map((r) => [r.status, r.reason]), [
    ["new", "waiting: none of the requested sites can receive copies now"],
    [
      "new",
      "waiting: cannot place 1 copies of /Req/Big/AOD: 0 exist, 0 can change owner, " +
      "and only 0 more of the requested sites can take it",
    ],
  ]);
  // T2_B comes back: the first request is placed at the next cycle.
  h.apply({ op: "site.upsert", name: "T2_B", status: "ready" });
  const out = cycle(h, requests, 4, NOW + 4 * day);
  requests = out.copyRequests;
  assertEquals(requests[0]!.status, "activated");
  assertEquals(requests[0]!.actions.map((a) => [a.site, a.status]), [["T2_B", "queued"]]);
  assertEquals(out.plan.operations.length > 0, true, "the copy is scheduled");
  // T2_TINY never gets room: the second one is rejected once 7 days have passed, with the last reason.
  requests = cycle(h, requests, 5, NOW + 7 * day - 1).copyRequests;
  assertEquals(requests[1]!.status, "new");
  requests = cycle(h, requests, 6, NOW + 7 * day).copyRequests;
  assertEquals(requests[1]!.status, "rejected");
  assertMatch(requests[1]!.reason!, /^not placed in 7\.0 days: cannot place 1 copies of \/Req\/Big\/AOD/);
});

Deno.test("a request is activated, queued, then completed when the copy is complete", () => {
  const h = federation();
  let requests = [request(1, { items: ["/Req/One/AOD"], sites: ["T2_B", "T2_C"], n: 2 })];
  let out = cycle(h, requests);
  requests = out.copyRequests;
  assertEquals(requests[0]!.status, "activated");
  assertEquals(requests[0]!.actions.map((a) => [a.site, a.status]).sort(), [["T2_B", "queued"], [
    "T2_C",
    "queued",
  ]]);
  applyPlan(h, out.plan);
  // In flight: nothing changes and nothing is proposed again.
  requests = requests.map((r) => trackCopyRequest(snap(h), r, NOW + 60));
  assertEquals(requests[0]!.status, "activated");
  out = cycle(h, requests);
  assertEquals(out.result.decisions, []);
  completeTransfers(h);
  requests = requests.map((r) => trackCopyRequest(snap(h), r, NOW + 120));
  assertEquals([requests[0]!.status, requests[0]!.actions.map((a) => a.status)], [
    "completed",
    ["completed", "completed"],
  ]);
  assertEquals(fullCopies(h, "/Req/One/AOD"), ["T2_A", "T2_B", "T2_C"]);
});

Deno.test("existing copies count, an overwritable group's copy changes owner, large block lists become the dataset", () => {
  const h = federation();
  const out = cycle(h, [
    request(1, { items: ["/Req/Old/AOD"], sites: ["T2_A", "T2_B"], n: 2 }),
    request(2, { items: ["/Req/One/AOD"], sites: ["T2_A"], n: 1 }),
    request(3, { items: ["/Req/One/AOD#b0", "/Req/One/AOD#b1", "/Req/One/AOD#b2"], sites: ["T2_C"] }),
  ]);
  const [flip, satisfied, promoted] = out.copyRequests;
  assertEquals(flip!.actions.map((a) => [a.site, a.status]), [["T2_A", "queued"], ["T2_B", "queued"]]);
  assertEquals(satisfied!.status, "completed");
  assertEquals(satisfied!.reason, "already satisfied");
  assertEquals(promoted!.actions.map((a) => a.item), ["/Req/One/AOD"]);
  applyPlan(h, out.plan);
  const s = snap(h);
  const old = s.dataset("/Req/Old/AOD")!;
  assertEquals(
    s.replicasOf(old.id).map((dr) => s.groupById(dr.blockReplicas[0]!.groupId)!.name),
    ["AnalysisOps", "AnalysisOps"],
  );
  assertEquals(out.result.decisions.find((d) => d.proposal.datasetId === old.id)!.bytes, 0, "no transfer");
});

Deno.test("an action the engine refuses waits, and fails after request_wait, and its request fails", () => {
  const h = federation();
  let requests = [request(1, { items: ["/Req/One/AOD"], sites: ["T2_B"] })];
  requests = cycle(h, requests).copyRequests;
  assertEquals(requests[0]!.status, "activated");
  // T2_B is put in the morgue before the copy is placed: every cycle refuses it.
  requests = [{
    ...requests[0]!,
    actions: requests[0]!.actions.map((a) => ({ ...a, status: "new" as const })),
  }];
  h.apply({ op: "site.upsert", name: "T2_B", status: "morgue" });
  for (let i = 0; i < 10; i++) requests = cycle(h, requests, i, NOW + i * 3600).copyRequests;
  assertEquals(requests[0]!.status, "activated");
  assertEquals(requests[0]!.actions[0]!.reason, "waiting: Not a target site");
  requests = cycle(h, requests, 11, NOW + 7 * 86400).copyRequests;
  const [r] = requests;
  assertEquals(r!.status, "failed");
  assertMatch(r!.reason!, /T2_B: not placed in 7\.0 days: Not a target site/);
});

Deno.test("copy submissions with garbage are refused naming the field", () => {
  const cases: [Parameters<typeof checkCopySubmission>[0], RegExp][] = [
    [{ items: [], sites: [], group: null, n: 1 }, /item.*required/],
    [{ items: ["../etc/passwd"], sites: [], group: null, n: 1 }, /item/],
    [{ items: ["/A/B/C#x#y"], sites: [], group: null, n: 1 }, /DATASET#BLOCK/],
    [{ items: ["/A/B/C"], sites: ["T2 A"], group: null, n: 1 }, /site/],
    [{ items: ["/A/B/C"], sites: [], group: " x", n: 1 }, /group/],
    [{ items: ["/A/B/C"], sites: [], group: null, n: -1 }, /"n"/],
    [{ items: ["/A/B/C"], sites: [], group: null, n: 1.5 }, /"n"/],
    [
      { items: Array.from({ length: 1001 }, (_, i) => `/A/B/C${i}`), sites: [], group: null, n: 1 },
      /at most/,
    ],
  ];
  for (const [s, pattern] of cases) {
    assertMatch(assertThrows(() => checkCopySubmission(s), InventoryValidationError).message, pattern);
  }
});

function deletion(id: number, items: string[], sites: string[]): DeletionRequest {
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

Deno.test("deletion requests never remove the last complete copy nor locked data; they complete when gone", () => {
  const h = federation();
  const s = snap(h);
  const oldId = s.dataset("/Req/Old/AOD")!.id;
  const work = planDeletionRequests(
    s,
    [
      deletion(1, ["/Req/One/AOD"], ["T2_A"]), // the only copy
      deletion(2, ["/Req/Old/AOD"], ["T2_*"]), // both copies at once: the second is the last
      deletion(3, ["/Req/Big/AOD"], ["T2_B"]), // not there
    ],
    (datasetId) => (datasetId === oldId ? undefined : undefined),
    NOW,
  );
  const [only, both, absent] = work.requests;
  assertEquals([only!.status, only!.reason], [
    "failed",
    "/Req/One/AOD at T2_A: would delete the last complete copy of /Req/One/AOD#b0",
  ]);
  assertEquals(both!.actions.map((a) => [a.site, a.status]), [["T2_A", "queued"], ["T2_B", "failed"]]);
  assertEquals([absent!.status, absent!.reason], ["completed", "nothing to delete"]);
  assertEquals(work.operations.map((o) => [o.requestId, s.siteById(o.siteId)!.name, o.blockIds]), [
    [2, "T2_A", null],
  ]);
  // A lock on the dataset at T2_B stops a request there.
  const locked = planDeletionRequests(s, [deletion(4, ["/Req/Old/AOD"], ["T2_B"])], () => null, NOW);
  assertMatch(locked.requests[0]!.reason!, /locked by a Detox lock/);
  // Carried out: the replica passes to the null group; when the files are gone, the request completes.
  h.apply(...work.commands as unknown as Record<string, unknown>[]);
  assert(snap(h).replica(oldId, s.site("T2_A")!.id)!.blockReplicas.every((br) => br.groupId === 0));
  let r = trackDeletionRequest(snap(h), both!, NOW + 60);
  assertEquals(r.status, "activated");
  h.apply({ op: "dataset_replica.delete", dataset: "/Req/Old/AOD", site: "T2_A" });
  r = trackDeletionRequest(snap(h), r, NOW + 120);
  assertEquals([r.status, r.actions.map((a) => a.status)], ["failed", ["completed", "failed"]]);
});
