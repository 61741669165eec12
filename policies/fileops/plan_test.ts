import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { ReducerHarness, T0 } from "../../tests/helpers/inventory.ts";
import { Snapshot } from "../../registry/inventory/mod.ts";
import {
  failedAttempt,
  nextAttempt,
  type PlanInput,
  type PlannedSubscription,
  planSubscription,
  retryDelaySeconds,
} from "./plan.ts";

const DATASET = "/Plan/Test/AOD";
const LFN = `${DATASET}/f1`;

/**
 * T2_A, T2_C (disk) and T1_TAPE hold the block complete; T2_B has an empty
 * replica waiting for the file; T2_DOWN (waitroom) and T2_MORGUE also wait.
 */
function federation() {
  const h = new ReducerHarness();
  h.apply(
    { op: "site.upsert", name: "T2_A", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T2_B", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T2_C", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T1_TAPE", storage_type: "mss", status: "ready" },
    { op: "site.upsert", name: "T2_DOWN", storage_type: "disk", status: "waitroom" },
    { op: "site.upsert", name: "T2_MORGUE", storage_type: "disk", status: "morgue" },
    { op: "group.upsert", name: "AnalysisOps" },
    { op: "dataset.upsert", name: DATASET },
    { op: "block.upsert", dataset: DATASET, block: "b1" },
    {
      op: "files.add",
      dataset: DATASET,
      block: "b1",
      files: [{ lfn: LFN, size: 10 }, { lfn: `${LFN}x`, size: 5 }],
    },
  );
  const replica = (site: string, files?: string[]) =>
    h.apply(
      { op: "dataset_replica.upsert", dataset: DATASET, site, group: "AnalysisOps", growing: false },
      {
        op: "block_replica.upsert",
        dataset: DATASET,
        block: "b1",
        site,
        group: "AnalysisOps",
        ...(files ? { files } : {}),
      },
    );
  for (const site of ["T2_A", "T2_C", "T1_TAPE"]) replica(site);
  replica("T2_B", [`${LFN}x`]);
  replica("T2_DOWN", []);
  replica("T2_MORGUE", []);
  return { snapshot: new Snapshot(h.state), fileId: h.files.byLfn.get(LFN)!.id, harness: h };
}

const { snapshot, fileId } = federation();

function sub(over: Partial<PlannedSubscription> = {}): PlannedSubscription {
  return {
    id: 1,
    kind: "copy",
    site: "T2_B",
    dataset: DATASET,
    block: "b1",
    lfn: LFN,
    status: "new",
    holdReason: null,
    attempts: 0,
    ...over,
  };
}

function plan(over: Partial<PlanInput> = {}) {
  return planSubscription({
    snapshot,
    subscription: sub(),
    failures: [],
    fileId,
    maxAttempts: 10,
    random: () => 0,
    ...over,
  });
}

Deno.test("plan: a site, replica or file that went away cancels; a file already there is done", () => {
  assertEquals(plan({ subscription: sub({ site: "T2_GONE" }) }), { kind: "cancel" });
  assertEquals(plan({ fileId: undefined }), { kind: "cancel" }, "the file left the catalogue");
  assertEquals(plan({ subscription: sub({ block: "b9" }) }), { kind: "cancel" }, "no such block");
  assertEquals(
    plan({ subscription: sub({ dataset: "/No/Such/AOD" }) }),
    { kind: "cancel" },
    "no destination replica",
  );
  assertEquals(plan({ subscription: sub({ site: "T2_A" }) }), { kind: "done" }, "complete replica");
  const there = federation();
  assertEquals(
    plan({
      snapshot: there.snapshot,
      subscription: sub({ lfn: `${LFN}x` }),
      fileId: there.harness.files.byLfn.get(`${LFN}x`)!.id,
    }),
    { kind: "done" },
    "the destination lists the file",
  );
});

Deno.test("plan: a site that may not receive (or delete) holds its files, and says when that is news", () => {
  assertEquals(plan({ subscription: sub({ site: "T2_DOWN" }) }), {
    kind: "held",
    reason: "site_unavailable",
    changed: true,
  });
  assertEquals(
    plan({ subscription: sub({ site: "T2_DOWN", status: "held", holdReason: "site_unavailable" }) }),
    { kind: "held", reason: "site_unavailable", changed: false },
  );
  assertEquals(plan({ subscription: sub({ site: "T2_MORGUE" }) }), {
    kind: "held",
    reason: "site_unavailable",
    changed: true,
  }, "a site in morgue receives nothing");
  // Deletions: a site in morgue still deletes (it is being emptied); one in waitroom waits.
  assertEquals(plan({ subscription: sub({ kind: "deletion", site: "T2_MORGUE" }), fileId: undefined }), {
    kind: "queue",
    source: null,
  });
  assertEquals(
    plan({ subscription: sub({ kind: "deletion", site: "T2_DOWN" }), fileId: undefined }).kind,
    "held",
  );
});

Deno.test("plan: disk sources before tape, an untried one at random, never the destination", () => {
  assertEquals(plan({ random: () => 0 }), { kind: "queue", source: "T2_A" });
  assertEquals(plan({ random: () => 0.999 }), { kind: "queue", source: "T2_C" });
  // Both disks failed recoverably: the one with fewer failures is tried again, before tape.
  const failures = [
    { source: "T2_A", recoverable: true, seq: 1 },
    { source: "T2_C", recoverable: true, seq: 2 },
    { source: "T2_A", recoverable: true, seq: 3 },
  ];
  assertEquals(plan({ subscription: sub({ attempts: 3, status: "retry" }), failures }), {
    kind: "queue",
    source: "T2_C",
  });
  // Both disks failed irrecoverably: tape is the untried source left.
  const hopelessDisks = [
    { source: "T2_A", recoverable: false, seq: 1 },
    { source: "T2_C", recoverable: false, seq: 2 },
  ];
  assertEquals(plan({ subscription: sub({ attempts: 2 }), failures: hopelessDisks }), {
    kind: "queue",
    source: "T1_TAPE",
  });
  assertEquals(
    plan({
      subscription: sub({ attempts: 3 }),
      failures: [...hopelessDisks, { source: "T1_TAPE", recoverable: false, seq: 3 }],
    }),
    { kind: "held", reason: "all_failed", changed: true },
  );
  // Failures without a source (never submitted) do not count against any source.
  assertEquals(
    plan({ subscription: sub({ attempts: 1 }), failures: [{ source: null, recoverable: false, seq: 1 }] }),
    {
      kind: "queue",
      source: "T2_A",
    },
  );
});

Deno.test("plan: no serving source holds the file as no_source", () => {
  const h = new ReducerHarness();
  h.apply(
    { op: "site.upsert", name: "T2_B", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T2_DOWN", storage_type: "disk", status: "waitroom" },
    { op: "group.upsert", name: "AnalysisOps" },
    { op: "dataset.upsert", name: DATASET },
    { op: "block.upsert", dataset: DATASET, block: "b1" },
    { op: "files.add", dataset: DATASET, block: "b1", files: [{ lfn: LFN, size: 10 }] },
  );
  for (const [site, files] of [["T2_B", []], ["T2_DOWN", undefined]] as const) {
    h.apply(
      { op: "dataset_replica.upsert", dataset: DATASET, site, group: "AnalysisOps", growing: false },
      {
        op: "block_replica.upsert",
        dataset: DATASET,
        block: "b1",
        site,
        group: "AnalysisOps",
        ...(files ? { files } : {}),
      },
    );
  }
  const input = { snapshot: new Snapshot(h.state), fileId: h.files.byLfn.get(LFN)!.id };
  assertEquals(
    plan(input),
    { kind: "held", reason: "no_source", changed: true },
    "the only copy is in waitroom",
  );
  assertEquals(
    plan({ ...input, subscription: sub({ status: "held", holdReason: "no_source" }) }),
    { kind: "held", reason: "no_source", changed: false },
  );
});

Deno.test("plan: a spent retry budget holds the file as all_failed without choosing a source", () => {
  let draws = 0;
  const random = () => (draws++, 0);
  assertEquals(plan({ subscription: sub({ attempts: 10, status: "retry" }), random }), {
    kind: "held",
    reason: "all_failed",
    changed: true,
  });
  assertEquals(plan({ subscription: sub({ attempts: 3 }), maxAttempts: 3, random }).kind, "held");
  assertEquals(draws, 0, "no random draw for a file that is not tried");
  assertEquals(plan({ subscription: sub({ attempts: 9 }), random }), { kind: "queue", source: "T2_A" });
  assertEquals(draws, 1);
});

Deno.test("retry rule: back-off doubles from 30 s to an hour; the last allowed failure holds the file", () => {
  assertEquals([1, 2, 3, 7, 8, 20].map(retryDelaySeconds), [30, 60, 120, 1920, 3600, 3600]);
  assertEquals(nextAttempt({ failures: 1, nowMs: T0, maxAttempts: 10 }), {
    kind: "retry",
    atMs: T0 + 30_000,
  });
  assertEquals(nextAttempt({ failures: 9, nowMs: T0, maxAttempts: 10 }), {
    kind: "retry",
    atMs: T0 + 3600_000,
  });
  assertEquals(nextAttempt({ failures: 10, nowMs: T0, maxAttempts: 10 }), {
    kind: "held",
    reason: "all_failed",
  });
  assertEquals(nextAttempt({ failures: 1, nowMs: T0, maxAttempts: 1 }), {
    kind: "held",
    reason: "all_failed",
  });
});

Deno.test("failed attempt: the error's class, its message, and the retry time from the one rule", () => {
  const timeout = Object.assign(new Error("read timed out"), { code: "ETIMEDOUT" });
  assertEquals(failedAttempt({ attempts: 0, error: timeout, nowMs: T0, maxAttempts: 10 }), {
    code: "ETIMEDOUT",
    exitCode: 110,
    recoverable: true,
    message: "read timed out",
    retryAtMs: T0 + 30_000,
  });
  assertEquals(
    failedAttempt({ attempts: 2, error: timeout, nowMs: T0, maxAttempts: 10 }).retryAtMs,
    T0 + 120_000,
  );
  assertEquals(
    failedAttempt({ attempts: 9, error: timeout, nowMs: T0, maxAttempts: 10 }).retryAtMs,
    null,
    "the tenth failure of ten is held",
  );
  // Whatever was thrown: no code, a message table match; not even an Error.
  const denied = failedAttempt({
    attempts: 0,
    error: new Error("Permission denied"),
    nowMs: T0,
    maxAttempts: 10,
  });
  assertEquals([denied.code, denied.recoverable], ["EACCES", false]);
  const odd = failedAttempt({ attempts: 0, error: { code: 42 }, nowMs: T0, maxAttempts: 10 });
  assertEquals([odd.code, odd.message], ["EIO", "[object Object]"]);
  assert(failedAttempt({ attempts: 0, error: null, nowMs: T0, maxAttempts: 10 }).recoverable);
});
