import { assertEquals } from "../../tests/helpers/assert.ts";
import type { CopyRequest } from "./copy_request.ts";
import type { DeletionRequest } from "./deletion_request.ts";
import { mergeRepeatedCopy, mergeRepeatedDeletion } from "./request_merge.ts";

const NOW = Date.UTC(2026, 5, 1);

function copy(over: Partial<CopyRequest> = {}): CopyRequest {
  return {
    id: 7,
    user: "alice",
    group: "AnalysisOps",
    n: 1,
    items: ["/A/b/AOD"],
    sites: ["T2_*"],
    status: "new",
    reason: null,
    createdAt: 100,
    updatedAt: 100,
    lastRequestAt: 100,
    requestCount: 1,
    actions: [],
    ...over,
  };
}

function deletion(over: Partial<DeletionRequest> = {}): DeletionRequest {
  return {
    id: 9,
    user: "alice",
    items: ["/A/b/AOD"],
    sites: ["T2_X"],
    status: "new",
    reason: null,
    createdAt: 100,
    updatedAt: 100,
    lastRequestAt: 100,
    requestCount: 2,
    actions: [],
    ...over,
  };
}

const again = { items: ["/A/b/AOD"], sites: ["T2_*"], group: "DataOps", n: 2 };

Deno.test("a repeated copy request while new is counted and takes the repeat's group and copies", () => {
  assertEquals(mergeRepeatedCopy({ open: [copy()], user: "alice", submission: again, nowMs: NOW }), {
    id: 7,
    requestCount: 2,
    lastRequestMs: NOW,
    edit: { group: "DataOps", n: 2, updatedMs: NOW },
  });
});

Deno.test("a repeated copy request once activated is only counted: the Dealer's decision stands", () => {
  const activated = copy({ status: "activated", requestCount: 4 });
  assertEquals(mergeRepeatedCopy({ open: [activated], user: "alice", submission: again, nowMs: NOW }), {
    id: 7,
    requestCount: 5,
    lastRequestMs: NOW,
    edit: null,
  });
});

Deno.test("a copy request merges only into the same user's open request for the same items and sites", () => {
  const merge = (open: CopyRequest[], user = "alice", submission = again) =>
    mergeRepeatedCopy({ open, user, submission, nowMs: NOW });
  assertEquals(merge([copy()], "bob"), null, "another user's request");
  assertEquals(merge([copy({ sites: ["T2_X"] })]), null, "other sites");
  assertEquals(merge([copy({ items: ["/A/b/AOD", "/C/d/AOD"] })]), null, "more items");
  for (const status of ["completed", "rejected", "cancelled", "failed"] as const) {
    assertEquals(merge([copy({ status })]), null, `a ${status} request is not reopened`);
  }
  // Several open ones (a race between two submissions): the oldest listed takes the repeat.
  assertEquals(merge([copy({ id: 3 }), copy({ id: 4 })])?.id, 3);
  assertEquals(merge([copy({ status: "failed", id: 3 }), copy({ id: 4 })])?.id, 4);
});

Deno.test("a repeated deletion request is counted; anything else makes a new request", () => {
  const submission = { items: ["/A/b/AOD"], sites: ["T2_X"] };
  assertEquals(mergeRepeatedDeletion({ open: [deletion()], user: "alice", submission, nowMs: NOW }), {
    id: 9,
    requestCount: 3,
    lastRequestMs: NOW,
  });
  assertEquals(
    mergeRepeatedDeletion({
      open: [deletion({ status: "activated" })],
      user: "alice",
      submission,
      nowMs: NOW,
    })
      ?.requestCount,
    3,
  );
  assertEquals(mergeRepeatedDeletion({ open: [deletion()], user: "bob", submission, nowMs: NOW }), null);
  assertEquals(
    mergeRepeatedDeletion({
      open: [deletion()],
      user: "alice",
      submission: { ...submission, sites: ["T2_Y"] },
      nowMs: NOW,
    }),
    null,
  );
  assertEquals(mergeRepeatedDeletion({ open: [], user: "alice", submission, nowMs: NOW }), null);
});
