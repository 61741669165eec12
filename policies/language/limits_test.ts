import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/helpers/assert.ts";
import { SeededRng } from "../../actors/runtime/clock.ts";
import { parseDealerConfig } from "../dealer/dealer_config.ts";
import { parseDetoxPolicy } from "../detox/detox_policy.ts";
import { parseEnforcerRules } from "../enforcer_rules.ts";
import { parsePartitions } from "../partitions.ts";
import { parseSequenceFile } from "../scheduler/sequence_file.ts";
import { compileReplicaCondition } from "./condition.ts";
import { PolicySyntaxError } from "./errors.ts";
import { MAX_NESTING, MAX_POLICY_CHARS } from "./limits.ts";

const NOW = Date.UTC(2026, 10, 25);
const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`../../tests/fixtures/policies/${name}`, import.meta.url));

const nested = (depth: number, inner = "dataset.name == /A/B/C") =>
  "(".repeat(depth) + inner + ")".repeat(depth);

Deno.test("100,000 nested parentheses are a PolicySyntaxError with file, line and column", () => {
  const text = `Partition Default\n\nProtect ${nested(100_000)}\nDismiss\nOrder increasing replica.size\n`;
  const e = assertThrows(() => parseDetoxPolicy(text, { nowMs: NOW, file: "deep.txt" }), PolicySyntaxError);
  assertEquals([e.file, e.line, e.column], ["deep.txt", 3, 9 + MAX_NESTING]);
  assertMatch(e.message, /^deep\.txt:3:\d+: parentheses nested deeper than 64 levels$/);
  const p = assertThrows(() =>
    parsePartitions(`Deep: ${nested(100_000, "blockreplica.owner == a")}`, "p.txt")
  );
  assert(p instanceof PolicySyntaxError, String(p));
  assertEquals(p.file, "p.txt");
});

Deno.test("nesting up to the limit parses and evaluates", () => {
  const c = compileReplicaCondition(nested(MAX_NESTING, "dataset.name == /A/B/C or dataset.name == /X/Y/Z"), {
    nowMs: NOW,
  });
  assertEquals(c.variables, ["dataset.name"]);
  assertThrows(
    () => compileReplicaCondition(nested(MAX_NESTING + 1), { nowMs: NOW }),
    PolicySyntaxError,
    "nested deeper",
  );
});

Deno.test("a policy file over the size limit is refused before parsing, naming the file", () => {
  // A valid policy padded with comments to just over the limit: only the size can be at fault.
  const valid = fixture("analysis.txt");
  const big = valid + "\n# " + "x".repeat(MAX_POLICY_CHARS - valid.length);
  for (
    const [parse, file] of [
      [() => parseDetoxPolicy(big, { nowMs: NOW, file: "big.txt" }), "big.txt"],
      [() => parsePartitions(big, "partitions.txt"), "partitions.txt"],
      [() => parseDealerConfig(big, "dealer.json"), "dealer.json"],
      [() => parseEnforcerRules(big, "enforcer.json", NOW), "enforcer.json"],
      [() => parseSequenceFile(big, "cms.seq"), "cms.seq"],
    ] as const
  ) {
    const e = assertThrows(parse, PolicySyntaxError);
    assertEquals([e.file, e.line, e.column], [file, 1, 1]);
    assertMatch(e.reason, /^file too large: \d+ characters, at most 4194304 \(4 MiB\) are accepted$/);
  }
  // The same file under the limit is a policy.
  const fits = valid + "\n# " + "x".repeat(MAX_POLICY_CHARS - valid.length - 4);
  assertEquals(
    parseDetoxPolicy(fits, { nowMs: NOW }).partition,
    parseDetoxPolicy(valid, { nowMs: NOW }).partition,
  );
});

Deno.test("a policy regex the linear engine cannot run is refused at its line and column", () => {
  const text =
    "Partition Default\nProtect dataset.name =~ /A/(?=B)\nDismiss\nOrder increasing replica.size\n";
  const e = assertThrows(() => parseDetoxPolicy(text, { nowMs: NOW, file: "look.txt" }), PolicySyntaxError);
  assertEquals([e.file, e.line, e.column], ["look.txt", 2, 25]);
  assertMatch(e.reason, /lookaround "\(\?=" is not supported/);
});

Deno.test("fuzz: nesting, regexes and sizes near the limits give PolicySyntaxError or a policy, never a crash", () => {
  const base = fixture("analysis.txt").split("\n");
  const pieces = [
    "(",
    ")",
    "((((",
    "))))",
    " and ",
    " or ",
    "dataset.name =~ ",
    "(a+)+b",
    "\\1",
    "(?=x)",
    "(?<!y)",
  ];
  let rejected = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const rng = new SeededRng(seed);
    const lines = [...base];
    const at = 1 + rng.int(lines.length - 1);
    let insert = "";
    switch (rng.int(4)) {
      case 0: // deep nesting around a real condition
        insert = `Protect ${nested(MAX_NESTING - 2 + rng.int(5))}`;
        break;
      case 1: // unbalanced and random mixtures
        insert = "Protect " +
          Array.from({ length: 1 + rng.int(40) }, () => pieces[rng.int(pieces.length)]!).join("");
        break;
      case 2: // regexes, some with constructs the engine refuses
        insert = `Delete dataset.name =~ ${
          Array.from({ length: 1 + rng.int(6) }, () => pieces[5 + rng.int(6)]!).join("")
        }`;
        break;
      case 3: // long lines
        insert = `Protect dataset.name == /${"a ".repeat(rng.int(50_000))}`;
        break;
    }
    lines.splice(at, 0, insert);
    try {
      parseDetoxPolicy(lines.join("\n"), { nowMs: NOW, file: `fuzz${seed}.txt` });
    } catch (e) {
      if (!(e instanceof PolicySyntaxError)) {
        throw new Error(`seed ${seed}: ${String(e)}\n${insert.slice(0, 200)}`);
      }
      assertEquals(e.file, `fuzz${seed}.txt`);
      rejected += 1;
    }
  }
  assert(rejected > 100, `most mutations should be rejected, got ${rejected}`);
});

Deno.test("a 200,000-digit value that is not a number is refused at once (the number check was quadratic)", () => {
  const text = `Partition Default\nProtect dataset.size > ${
    "1".repeat(200_000)
  }x\nDismiss\nOrder increasing replica.size\n`;
  const e = assertThrows(() => parseDetoxPolicy(text, { nowMs: NOW, file: "digits.txt" }), PolicySyntaxError);
  assertEquals([e.file, e.line], ["digits.txt", 2]);
  assertMatch(e.reason, /^expected a number/);
});
