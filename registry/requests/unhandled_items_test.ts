import { assertEquals } from "../../tests/helpers/assert.ts";
import type { CopyAction, CopyRequest } from "./copy_request.ts";
import { unhandledItems } from "./unhandled_items.ts";

const request = (over: Partial<CopyRequest>): CopyRequest => ({
  id: 1,
  user: "alice",
  group: null,
  n: 1,
  items: ["/A/B/C"],
  sites: [],
  status: "new",
  reason: null,
  createdAt: 0,
  updatedAt: 0,
  lastRequestAt: 0,
  requestCount: 1,
  actions: [],
  ...over,
});
const action = (item: string, status: CopyAction["status"]): CopyAction => ({
  item,
  site: "T2_A",
  status,
  attempts: 0,
  reason: null,
  updatedAt: 0,
});

Deno.test("a new request waits for all its items; an activated one only for its new actions", () => {
  assertEquals(unhandledItems([]), []);
  assertEquals(unhandledItems([request({ items: ["/A/B/C", "/D/E/F#b1"] })]), ["/A/B/C", "/D/E/F#b1"]);
  assertEquals(
    unhandledItems([
      request({
        status: "activated",
        actions: [action("/A/B/C", "new"), action("/D/E/F", "completed"), action("/G/H/I", "new")],
      }),
    ]),
    ["/A/B/C", "/G/H/I"],
  );
});
