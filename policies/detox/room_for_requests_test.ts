import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { NO_ATTRIBUTES } from "../language/mod.ts";
import { parsePartitions } from "../partitions.ts";
import { Snapshot } from "../../registry/inventory/mod.ts";
import type { CopyRequest } from "../../registry/requests/copy_request.ts";
import { runDetox } from "./detox_engine.ts";
import { parseDetoxPolicy } from "./detox_policy.ts";
import { PartitionImage } from "./partition_image.ts";
import { roomForWaiting, waitingCopies, type WaitingCopy } from "./room_for_requests.ts";

const NOW = Date.UTC(2026, 10, 25);

/** Disk sites with quotas, and datasets (one block) at sites; `tape: true` adds a tape copy. */
function inventory(
  sites: Record<string, number>,
  datasets: { name: string; size: number; at: string[] }[],
): Snapshot {
  const h = new ReducerHarness(
    parsePartitions("Analysis: blockreplica.owner != None and site.storage_type == DISK\n"),
  );
  h.nowMs = NOW;
  h.apply(
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    ...Object.keys(sites).map((name) => ({ op: "site.upsert", name, storage_type: "disk", status: "ready" })),
    ...Object.entries(sites).map(([site, quota]) => ({
      op: "quota.set",
      site,
      partition: "Analysis",
      quota,
    })),
  );
  let f = 0;
  for (const d of datasets) {
    h.apply(
      { op: "dataset.upsert", name: d.name, status: "valid" },
      { op: "block.upsert", dataset: d.name, block: "b0" },
      { op: "files.add", dataset: d.name, block: "b0", files: [{ lfn: `/f${d.name}/${f++}`, size: d.size }] },
      ...d.at.flatMap((site) => [
        { op: "dataset_replica.upsert", dataset: d.name, site, group: "AnalysisOps", growing: false },
        { op: "block_replica.upsert", dataset: d.name, block: "b0", site, group: "AnalysisOps" },
      ]),
    );
  }
  return new Snapshot(h.state);
}

const POLICY = `Partition Analysis
On site.storage_type == DISK
When site.occupancy > 0.9
Until site.occupancy < 0.85
Protect dataset.num_full_disk_copy < 2
Dismiss
Order increasing replica.size
`;

function request(over: Partial<CopyRequest>): CopyRequest {
  return {
    id: 1,
    user: "alice",
    group: null,
    n: 1,
    items: ["/W/x/AOD"],
    sites: [],
    status: "new",
    reason: "waiting: cannot place 1 copies of /W/x/AOD",
    createdAt: 100,
    updatedAt: 100,
    lastRequestAt: 100,
    requestCount: 1,
    actions: [],
    ...over,
  };
}

const waiting = (over: Partial<WaitingCopy> = {}): WaitingCopy => ({
  item: "/W/x/AOD",
  sites: [],
  copies: 1,
  since: 0,
  ...over,
});

function image(snap: Snapshot) {
  const policy = parseDetoxPolicy(POLICY, { nowMs: NOW });
  return { policy, image: PartitionImage.build(snap, policy, NO_ATTRIBUTES) };
}

const bySite = (m: Map<{ site: { name: string } }, number>) =>
  Object.fromEntries([...m].map(([s, b]) => [s.site.name, b]));

Deno.test("waiting copies: new requests and actions that wait, oldest first; the rest is not waiting", () => {
  const action = (item: string, status: "new" | "queued", reason: string | null) => ({
    item,
    site: "T2_B",
    status,
    attempts: 1,
    reason,
    updatedAt: 0,
  });
  const open = [
    request({ id: 1, createdAt: 300, items: ["/A/a/AOD", "/A/b/AOD"], sites: ["T2_*"], n: 2 }),
    request({ id: 2, createdAt: 100, status: "new", reason: null }), // not yet looked at
    request({
      id: 3,
      createdAt: 200,
      status: "activated",
      reason: null,
      actions: [
        action("/C/c/AOD", "new", "waiting: Destination is full"),
        action("/C/d/AOD", "queued", null),
        action("/C/e/AOD", "new", null),
      ],
    }),
    request({ id: 4, status: "rejected", reason: "waiting: forged" }),
    request({ id: 5, reason: "waitingnot really" }),
  ];
  assertEquals(waitingCopies(open), [
    { item: "/C/c/AOD", sites: ["T2_B"], copies: 1, since: 200 },
    { item: "/A/a/AOD", sites: ["T2_*"], copies: 2, since: 300 },
    { item: "/A/b/AOD", sites: ["T2_*"], copies: 2, since: 300 },
  ]);
  assertEquals(waitingCopies([]), []);
});

Deno.test("room is held at the least occupied allowed site that does not hold the item, within the cap", () => {
  const snap = inventory({ T2_A: 1000, T2_B: 1000, T1_C: 1000 }, [
    { name: "/F/a/AOD", size: 800, at: ["T2_A"] },
    { name: "/F/b/AOD", size: 700, at: ["T2_B"] },
    { name: "/F/c/AOD", size: 100, at: ["T1_C"] },
    { name: "/W/x/AOD", size: 150, at: ["T1_C"] },
    { name: "/W/y/AOD", size: 150, at: ["T2_A"] },
  ]);
  const { image: img } = image(snap);
  // T1_C is the emptiest but holds /W/x already: T2_B, then T2_A for the second copy.
  assertEquals(bySite(roomForWaiting(snap, img, [waiting({ copies: 2 })], 0.2)), { T2_B: 150, T2_A: 150 });
  // Only T2_* allowed, and n = 0: one at every allowed site without it.
  assertEquals(bySite(roomForWaiting(snap, img, [waiting({ sites: ["T2_*"], copies: 0 })], 0.2)), {
    T2_A: 150,
    T2_B: 150,
  });
  // The cap: a site holds at most 20 % of its quota; the second copy of 150 goes elsewhere or nowhere.
  assertEquals(
    bySite(roomForWaiting(snap, img, [waiting(), waiting({ item: "/W/y/AOD" })], 0.2)),
    { T2_B: 150, T1_C: 150 },
  );
  assertEquals(
    bySite(
      roomForWaiting(snap, img, [
        waiting({ sites: ["T2_B"] }),
        waiting({ item: "/W/y/AOD", sites: ["T2_B"] }),
      ], 0.2),
    ),
    { T2_B: 150 },
  );
});

Deno.test("room for waiting copies: hostile and empty inputs hold nothing", () => {
  const snap = inventory({ T2_A: 1000 }, [{ name: "/W/x/AOD", size: 150, at: [] }]);
  const { image: img } = image(snap);
  for (const cap of [0, -1, Number.NaN, Number.NEGATIVE_INFINITY]) {
    assertEquals(roomForWaiting(snap, img, [waiting()], cap).size, 0);
  }
  for (
    const item of ["/No/such/AOD", "", "../../etc/passwd", "/W/x/AOD#nope", "\u0000", "x".repeat(10_000)]
  ) {
    assertEquals(roomForWaiting(snap, img, [waiting({ item })], 1).size, 0, item.slice(0, 20));
  }
  assertEquals(roomForWaiting(snap, img, [waiting({ sites: ["T9_*"] })], 1).size, 0);
  assertEquals(roomForWaiting(snap, img, [waiting({ copies: -3 })], 1).size, 0);
  // Larger than the cap allows at any site.
  assertEquals(roomForWaiting(snap, img, [waiting()], 0.1).size, 0);
});

Deno.test("Detox makes room for a waiting copy under its own watermarks, and keeps last copies", () => {
  // T2_A at 80 %, T2_B at 90 %: neither above the 90 % trigger, so Detox alone deletes nothing.
  const snap = inventory({ T2_A: 1000, T2_B: 1000 }, [
    { name: "/R/a/AOD", size: 100, at: ["T2_A", "T2_B"] },
    { name: "/R/b/AOD", size: 200, at: ["T2_A", "T2_B"] },
    { name: "/L/c/AOD", size: 500, at: ["T2_A"] },
    { name: "/L/d/AOD", size: 600, at: ["T2_B"] },
    { name: "/W/x/AOD", size: 150, at: [] },
  ]);
  const names = (r: ReturnType<typeof runDetox>) =>
    r.deletions.map((d) => `${snap.datasetById(d.datasetId)!.name}@${snap.siteById(d.siteId)!.name}`);
  {
    const { image: img, policy } = image(snap);
    assertEquals(names(runDetox(img, policy, { deletionPerIteration: 1 })), []);
  }
  const { image: img, policy } = image(snap);
  const room = roomForWaiting(snap, img, [waiting()], 0.2);
  assertEquals(bySite(room), { T2_A: 150 });
  for (const [site, bytes] of room) site.reserved = bytes;
  const result = runDetox(img, policy, { deletionPerIteration: 0.05 });
  // 800 + 150 > 900 triggers; smallest first: 700 + 150 is not under 850, so /R/b/AOD goes too.
  assertEquals(names(result), ["/R/a/AOD@T2_A", "/R/b/AOD@T2_A"]);
  const a = result.sites.find((s) => snap.siteById(s.siteId)!.name === "T2_A")!;
  assertEquals([a.usedBefore, a.usedAfter], [800, 500]);
  assert(500 + 150 <= 0.9 * 1000, "the waiting copy now fits under the Dealer's target");
  // Only last copies left: the room cannot be made, and nothing is lost.
  const full = inventory({ T2_A: 1000 }, [
    { name: "/L/c/AOD", size: 850, at: ["T2_A"] },
    { name: "/W/x/AOD", size: 100, at: [] },
  ]);
  const f = image(full);
  for (const [site, bytes] of roomForWaiting(full, f.image, [waiting()], 0.2)) site.reserved = bytes;
  assertEquals(runDetox(f.image, f.policy, { deletionPerIteration: 1 }).deletions, []);
});
