import { assertEquals, assertMatch, assertThrows } from "../../tests/helpers/assert.ts";
import { PolicySyntaxError } from "../../policies/language/errors.ts";
import {
  configuredDetoxPolicies,
  detoxPolicySource,
  formatDetoxPolicyEntries,
  parseDetoxPolicyEntries,
} from "./detox_policy_entries.ts";

const V = "DYNAMO_DETOX_POLICIES";
const SITES = "On always\nWhen never\nUntil never\nDismiss\n";

Deno.test("DYNAMO_DETOX_POLICIES: FILE[@PARTITION], and back", () => {
  const entries = parseDetoxPolicyEntries(" a.txt , dir@2016/c.txt@IB RelVal,b.txt@Physics,, dir@x/d.txt", V);
  assertEquals(entries, [
    { file: "a.txt" },
    { file: "dir@2016/c.txt", partition: "IB RelVal" },
    { file: "b.txt", partition: "Physics" },
    { file: "dir@x/d.txt" },
  ]);
  assertEquals(parseDetoxPolicyEntries(formatDetoxPolicyEntries(entries), V), entries);
  assertEquals(parseDetoxPolicyEntries("", V), []);
});

Deno.test("DYNAMO_DETOX_POLICIES: garbage and hostile partitions are refused with the setting's name", () => {
  for (const bad of ["a.txt@", "a.txt@ ", "a.txt@<b>", "a.txt@x;y", "@Physics", `a.txt@${"P".repeat(200)}`]) {
    const e = assertThrows(() => parseDetoxPolicyEntries(bad, V), TypeError);
    assertMatch(e.message, /^DYNAMO_DETOX_POLICIES: /, bad);
  }
});

Deno.test("a configured file is checked at start: partition defined, or none and run on request", () => {
  const parts = [{ name: "Physics" }];
  assertEquals(detoxPolicySource({ file: "c.txt" }, SITES, parts, 0, V), { file: "c.txt", text: SITES });
  assertEquals(
    detoxPolicySource({ file: "c.txt", partition: "Physics" }, SITES, parts, 0, V).partition,
    "Physics",
  );
  assertMatch(
    assertThrows(() => detoxPolicySource({ file: "c.txt", partition: "Nope" }, SITES, parts, 0, V), TypeError)
      .message,
    /DYNAMO_DETOX_POLICIES: c.txt runs on partition "Nope", which is not defined/,
  );
  assertMatch(
    assertThrows(
      () =>
        detoxPolicySource({ file: "p.txt", partition: "Other" }, "Partition Physics\n" + SITES, parts, 0, V),
      PolicySyntaxError,
    ).message,
    /Partition line names "Physics" but "Other" was given/,
  );
  // A broken campaign file still stops the start with its line.
  assertMatch(
    assertThrows(
      () =>
        detoxPolicySource(
          { file: "c.txt" },
          "On always\nWhen never\nUntil never\nProtect x.y\nDismiss\n",
          parts,
          0,
          V,
        ),
      PolicySyntaxError,
    )
      .message,
    /c.txt:4:9: unknown variable "x.y"/,
  );
});

Deno.test("detox.policies in the service configuration: names or {file, partition}", () => {
  const fail = (path: string, reason: string): never => {
    throw new Error(`${path}: ${reason}`);
  };
  assertEquals(
    configuredDetoxPolicies(
      ["a.txt", { file: "c.txt", partition: "Physics" }, { file: "d.txt" }],
      (p) => `/etc/${p}`,
      fail,
    ),
    [{ file: "/etc/a.txt" }, { file: "/etc/c.txt", partition: "Physics" }, { file: "/etc/d.txt" }],
  );
});
