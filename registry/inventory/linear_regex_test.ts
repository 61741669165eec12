import { assert, assertEquals, assertStringIncludes, assertThrows } from "../../tests/helpers/assert.ts";
import { compileLinearRegex, MAX_REGEX_LENGTH, RegexError, regexProblem } from "./linear_regex.ts";

Deno.test("prefix anchoring is Python's re.match: at the start, not to the end", () => {
  const re = compileLinearRegex("/[^/]+/CMSSW_10_[^/]*/RECO", { anchor: "prefix", dotAll: true });
  assert(re.test("/A/CMSSW_10_2_0-v1/RECO"));
  assert(re.test("/A/CMSSW_10_2_0-v1/RECOSIM"));
  assert(!re.test("x/A/CMSSW_10_2_0-v1/RECO"));
  // Alternatives stay under the anchor.
  const alt = compileLinearRegex("/a|/b", { anchor: "prefix" });
  assert(!alt.test("x/b"));
  assert(compileLinearRegex("/[^/]+/[^/]+/GEN-SIM(?:-RECO|)$", { anchor: "prefix" }).test("/A/B/GEN-SIM"));
});

Deno.test("whole anchoring with capture groups, as filename mappings use them", () => {
  const re = compileLinearRegex("/+store/(.*)/(x)?([0-9]+)", { anchor: "whole" });
  assertEquals(re.exec("//store/mc/A/12"), ["//store/mc/A/12", "mc/A", undefined, "12"]);
  assertEquals(re.exec("/store/mc/A/12/extra"), null);
  assert(!compileLinearRegex("a|ab", { anchor: "whole" }).test("abc"));
});

Deno.test("dotAll decides whether . crosses a newline", () => {
  assert(compileLinearRegex("a.b", { anchor: "whole", dotAll: true }).test("a\nb"));
  assert(!compileLinearRegex("a.b", { anchor: "whole" }).test("a\nb"));
});

Deno.test("the patterns that froze the registry complete on long inputs", () => {
  const nested = compileLinearRegex("/(a+)+b", { anchor: "prefix", dotAll: true });
  for (const n of [30, 31, 40, 10_000]) assertEquals(nested.test("/" + "a".repeat(n)), false);
  assert(nested.test("/" + "a".repeat(40) + "b"));
  const mapping = compileLinearRegex("/(a+)+b", { anchor: "whole" });
  assertEquals(mapping.exec("/" + "a".repeat(100_000)), null);
  const alternation = compileLinearRegex("(a|aa)*c", { anchor: "whole" });
  assertEquals(alternation.test("a".repeat(50_000)), false);
});

Deno.test("constructs without a linear-time implementation are refused with a reason", () => {
  for (
    const [pattern, says] of [
      ["(a)\\1", "backreferences"],
      ["(?P<x>a)(?P=x)", "backreferences"],
      ["(?<x>a)\\k<x>", "backreferences"],
      ["a(?=b)", 'lookaround "(?="'],
      ["a(?!b)", 'lookaround "(?!"'],
      ["(?<=a)b", 'lookaround "(?<="'],
      ["(?<!a)b", 'lookaround "(?<!"'],
    ] as const
  ) {
    const e = assertThrows(() => compileLinearRegex(pattern, { anchor: "prefix" }), RegexError);
    assertStringIncludes(e.message, says, pattern);
    assertStringIncludes(e.message, "linear time", pattern);
  }
  // Look-alikes that are fine: an escaped paren, a paren in a class, named groups, a digit class.
  for (const ok of ["\\(?=", "[(?=]", "(?P<x>a)", "(?<x>a)", "\\d+", "(?i)abc", "(?:a|b)"]) {
    assertEquals(regexProblem(ok), null, ok);
  }
});

Deno.test("garbage and oversized patterns are refused, never thrown as something else", () => {
  for (const bad of ["(", "a)", "[a", "a{2,1001}", "*a", "a**", "\\", "(?<", "x{1000}{1000}"]) {
    const reason = regexProblem(bad);
    assert(reason !== null, `${JSON.stringify(bad)} should be refused`);
  }
  assertStringIncludes(
    regexProblem("a".repeat(MAX_REGEX_LENGTH + 1))!,
    `longer than ${MAX_REGEX_LENGTH} characters`,
  );
  assertStringIncludes(regexProblem("[a-z]{1000}[a-z]{1000}[a-z]{1000}")!, "too large");
});
