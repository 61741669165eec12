import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/helpers/assert.ts";
import { SeededRng } from "../../actors/runtime/clock.ts";
import { PolicySyntaxError } from "../language/errors.ts";
import { parsePartitions } from "../partitions.ts";
import { parseDetoxPolicy } from "./detox_policy.ts";

const NOW = Date.UTC(2026, 10, 25);
const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`../../tests/fixtures/policies/${name}`, import.meta.url));

/**
 * The real CMS files live beside the checkout (`../shared`, as in CI), not in
 * the repository: they are another project's. Without them the tests that
 * need them say so by name and are reported as ignored.
 */
const CMS = new URL("../../../shared/reference/cms-policies/", import.meta.url);
const cmsFiles: { name: string; text: string }[] = (() => {
  try {
    const detox = [...Deno.readDirSync(new URL("detox/", CMS))].filter((e) => e.name.endsWith(".txt"));
    return detox.map((e) => ({
      name: `detox/${e.name}`,
      text: Deno.readTextFileSync(new URL(`detox/${e.name}`, CMS)),
    })).concat([{ name: "partitions.txt", text: Deno.readTextFileSync(new URL("partitions.txt", CMS)) }]);
  } catch {
    return [];
  }
})();
const cmsDetoxPolicies = cmsFiles.filter((f) => f.name.startsWith("detox/"));
const cmsPartitions = cmsFiles.find((f) => f.name === "partitions.txt");

Deno.test("a policy in the production style parses with every construct", () => {
  const p = parseDetoxPolicy(fixture("analysis.txt"), { file: "analysis.txt", nowMs: NOW });
  assertEquals(p.partition, "Analysis");
  assertEquals([p.targets.length, p.triggers.length, p.stops.length], [1, 2, 1]);
  assertEquals(p.lines.length, 19);
  assertEquals(p.lines[0]!.action, "Ignore");
  assertEquals(p.lines.filter((l) => l.action.endsWith("Block")).map((l) => l.action), [
    "ProtectBlock",
    "ProtectBlock",
    "ProtectBlock",
    "DismissBlock",
    "DeleteBlock",
  ]);
  assertEquals([p.defaultAction, p.iterative], ["Dismiss", true]);
  assertEquals(p.order.map((k) => `${k.direction} ${k.variable}`), [
    "decreasing dataset.usage_rank",
    "increasing replica.size",
  ]);
  assertEquals([...p.attributes].sort(), [
    "enforcer_protected_replicas",
    "global_usage_rank",
    "locked_blocks",
    "num_access",
    "on_protected_site",
    "unhandled_copy_exists",
  ]);
  assertEquals(p.lines[3]!.line, 16, "lines keep their file line numbers");
});

Deno.test("no Order line means no ordering; Algo Static turns iteration off; names may contain spaces", () => {
  const p = parseDetoxPolicy(fixture("greedy.txt"), { nowMs: NOW });
  assertEquals([p.partition, p.order.length, p.iterative], ["Scratch Space", 0, false]);
  assertEquals(
    parseDetoxPolicy(fixture("greedy.txt").replace("Algo Static", "Order none"), { nowMs: NOW }).iterative,
    true,
  );
});

Deno.test("a partitions file with superpartitions and names with spaces", () => {
  const defs = parsePartitions(fixture("partitions.txt"), "partitions.txt");
  assertEquals(defs.map((d) => d.name), [
    "Analysis",
    "Production",
    "Team Alpha",
    "Unowned",
    "Express",
    "Tape",
    "Physics",
  ]);
  assertEquals(defs.at(-1)!.subpartitions, ["Analysis", "Production", "Tape"]);
});

Deno.test("policy files that are wrong say where and why", () => {
  const cases: [string, number, RegExp][] = [
    ["On always\nWhen always\nUntil never\nDismiss\n", 5, /missing Partition line/],
    ["Partition P\nWhen always\nUntil never\nDismiss\n", 5, /missing On line/],
    ["Partition P\nOn always\nUntil never\nDismiss\n", 5, /missing When line/],
    ["Partition P\nOn always\nWhen always\nDismiss\n", 5, /missing Until line/],
    ["Partition P\nOn always\nWhen always\nUntil never\n", 5, /missing default decision/],
    [
      "Partition P\nOn always\nWhen always\nUntil never\nDismiss\nProtect replica.incomplete\n",
      6,
      /never be reached/,
    ],
    [
      "Partition P\nOn always\nWhen always\nUntil never\nKeep replica.incomplete\nDismiss\n",
      5,
      /unknown line type "Keep"/,
    ],
    [
      "Partition P\nOn always\nWhen always\nUntil never\nDismissBlock\n",
      5,
      /block actions cannot be the default/,
    ],
    [
      "Partition P\nOn always\nWhen always\nUntil never\nDismiss\nOrder upward replica.size\n",
      6,
      /"increasing" or "decreasing"/,
    ],
    [
      "Partition P\nOn always\nWhen always\nUntil never\nDismiss\nOrder increasing dataset.name\n",
      6,
      /not a numeric or time/,
    ],
    ["Partition P\nOn always\nWhen always\nUntil never\nDismiss\nAlgo Dynamic\n", 6, /"Algo Static"/],
    ["Partition P\nOn site.occupancy >> 1\nWhen always\nUntil never\nDismiss\n", 2, /unknown operator ">>"/],
    ["Partition P\nPartition Q\n", 2, /already given/],
  ];
  for (const [text, line, pattern] of cases) {
    const e = assertThrows(() => parseDetoxPolicy(text, { file: "p.txt", nowMs: NOW }), PolicySyntaxError);
    assertEquals([e.file, e.line], ["p.txt", line], text);
    assertMatch(e.reason, pattern);
  }
  const partitionCases: [string, RegExp][] = [
    ["NoColon blockreplica.owner == x\n", /expected "Name: condition"/],
    ["A: site.name == x\nA: site.name == y\n", /already defined on line 1/],
    ["A: [B]\n", /not a partition defined by a condition/],
    ["A: [site.name == x\n", /expected "\]"/],
    ["A:\n", /expected a condition/],
    ["# nothing\n", /no partition defined/],
  ];
  for (const [text, pattern] of partitionCases) {
    assertMatch(assertThrows(() => parsePartitions(text, "parts.txt"), PolicySyntaxError).reason, pattern);
  }
});

/** Random edits of a valid file: deletions, duplications, swaps and garbage characters. */
function mutate(text: string, rng: SeededRng): string {
  const chars = [...text];
  const garbage = [
    "",
    " ",
    "[",
    "]",
    "(",
    ")",
    '"',
    "#",
    "\n",
    "==",
    " and ",
    " or ",
    "*",
    "\\",
    "\u0000",
    "é",
    "not ",
    "0.9",
  ];
  for (let k = 1 + rng.int(4); k > 0; k--) {
    const i = rng.int(chars.length + 1);
    switch (rng.int(4)) {
      case 0:
        chars.splice(i, 1 + rng.int(8));
        break;
      case 1:
        chars.splice(i, 0, ...garbage[rng.int(garbage.length)]!);
        break;
      case 2:
        chars.splice(i, 0, ...chars.slice(rng.int(chars.length), rng.int(chars.length)));
        break;
      case 3: {
        const j = rng.int(chars.length);
        [chars[i], chars[j]] = [chars[j]!, chars[i]!];
      }
    }
  }
  return chars.join("");
}

Deno.test({
  name: "the real CMS policy and partition files parse unchanged (needs ../shared/reference/cms-policies)",
  ignore: cmsFiles.length === 0,
  fn() {
    assert(cmsDetoxPolicies.length >= 4, "Physics, RelVal, Express, Unsubscribed");
    for (const f of cmsDetoxPolicies) {
      const p = parseDetoxPolicy(f.text, { file: f.name, nowMs: NOW });
      assert(p.lines.length > 0, f.name);
    }
    const partitions = parsePartitions(cmsPartitions!.text, "partitions.txt");
    for (const policy of cmsDetoxPolicies.map((f) => parseDetoxPolicy(f.text, { nowMs: NOW }))) {
      assert(partitions.some((d) => d.name === policy.partition), `partition ${policy.partition} is defined`);
    }
  },
});

Deno.test({
  name: "fuzz: mutated real CMS files give PolicySyntaxError or a policy, never a crash (needs ../shared)",
  ignore: cmsFiles.length === 0,
  fn() {
    for (let seed = 1; seed <= 1000; seed++) {
      const rng = new SeededRng(seed);
      const source = cmsFiles[seed % cmsFiles.length]!;
      const text = mutate(source.text, rng);
      try {
        if (source === cmsPartitions) parsePartitions(text);
        else parseDetoxPolicy(text, { nowMs: NOW });
      } catch (e) {
        if (!(e instanceof PolicySyntaxError)) throw new Error(`seed ${seed} (${source.name}): ${String(e)}`);
      }
    }
  },
});

Deno.test("fuzz: mutated policy and partition files give PolicySyntaxError or a policy, never a crash", () => {
  const sources = [fixture("analysis.txt"), fixture("greedy.txt")];
  let rejected = 0;
  for (let seed = 1; seed <= 1500; seed++) {
    const rng = new SeededRng(seed);
    const text = mutate(sources[seed % sources.length]!, rng);
    try {
      parseDetoxPolicy(text, { nowMs: NOW });
    } catch (e) {
      if (!(e instanceof PolicySyntaxError)) throw new Error(`seed ${seed}: ${String(e)}\n${text}`);
      rejected += 1;
    }
    try {
      parsePartitions(mutate(fixture("partitions.txt"), rng));
    } catch (e) {
      if (!(e instanceof PolicySyntaxError)) throw new Error(`seed ${seed} (partitions): ${String(e)}`);
    }
  }
  assert(rejected > 500, `mutations should mostly be rejected, got ${rejected}`);
});
