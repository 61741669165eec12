import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { SeededRng } from "../../actors/runtime/clock.ts";
import { compileGlob, globMatch, globToLike, hasWildcard } from "./glob.ts";

// Expected values checked against Python 3's fnmatch.fnmatchcase, which the original used.
const CASES: [pattern: string, name: string, matches: boolean][] = [
  ["/A/*/RAW", "/A/B/C/RAW", true],
  ["/A/*/RAW", "/A/B/C/AOD", false],
  ["*", "", true],
  ["a*", "a\nb", true],
  ["*.root", "/x.root", true],
  ["?", "é", true],
  ["??", "😀", false],
  ["?", "😀", true],
  ["[!a]bc", "xbc", true],
  ["[!a]bc", "abc", false],
  ["[]]x", "]x", true],
  ["[!]]x", "ax", true],
  ["[a-]", "-", true],
  ["[z-a]", "m", false],
  ["[z-a]x", "x", false],
  ["a[", "a[", true],
  ["a[b", "a[b", true],
  ["[!]", "[!]", true],
  ["[^a]", "^", true],
  ["[^a]", "b", false],
  ["[--/]", ".", true],
  ["[a-c-e]", "-", true],
  ["[a-c-e]", "d", false],
  ["[\\]", "\\", true],
  ["T2_*", "T2_CH_CERN", true],
  ["T2_*", "T1_US_FNAL", false],
  ["*_[!M]*", "T1_US_FNAL_Disk", true],
  ["*a*a*a*a*a*b", "a".repeat(160), false],
  ["*a*a*a*a*a*b", "a".repeat(160) + "b", true],
  ["*ab*ab", "abab", true],
  ["*ab*ab", "aba", false],
  ["a*b*c", "abc", true],
  ["a*b*c", "acb", false],
  ["a**c", "ac", true],
];

Deno.test("wildcards match as the original's fnmatch did", () => {
  for (const [pattern, name, expected] of CASES) {
    assertEquals(globMatch(pattern, name), expected, `${JSON.stringify(pattern)} vs ${JSON.stringify(name)}`);
  }
});

Deno.test("the patterns that froze the registry complete on long names", () => {
  // With the old translation into a backtracking RegExp, 160 characters did not finish within 120 s.
  for (const n of [150, 160, 500, 100_000]) {
    assertEquals(globMatch("*a*a*a*a*a*b", "/" + "a".repeat(n)), false);
    assertEquals(globMatch("*a*a*a*a*a*b", "/" + "a".repeat(n) + "b"), true);
    assertEquals(globMatch("*?*?*?*?*?*b", "/" + "a".repeat(n)), false);
    assertEquals(globMatch("*[a]*[a]*[!b]*a*b", "/" + "a".repeat(n)), false);
  }
  const long = "*a".repeat(500) + "*b";
  assertEquals(globMatch(long, "a".repeat(10_000)), false);
});

Deno.test("hasWildcard decides what is a pattern as the registry does", () => {
  assertEquals(hasWildcard("/A/B/C"), false);
  assertEquals(hasWildcard("/A/B[1]/C"), false);
  assertEquals(hasWildcard("/A/*/C"), true);
  assertEquals(hasWildcard("/A/?/C"), true);
});

/** An independent oracle: dynamic programming over code points (small inputs only). */
function oracle(pattern: string, name: string): boolean {
  const p = Array.from(pattern);
  const s = Array.from(name);
  // Tokenize with fnmatch's rules for sets.
  type Tok = { star: true } | { star: false; ok: (c: string) => boolean };
  const toks: Tok[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*") toks.push({ star: true });
    else if (c === "?") toks.push({ star: false, ok: () => true });
    else if (c === "[") {
      let j = i + 1;
      if (p[j] === "!") j++;
      if (p[j] === "]") j++;
      while (j < p.length && p[j] !== "]") j++;
      if (j >= p.length) {
        toks.push({ star: false, ok: (x) => x === "[" });
        continue;
      }
      let body = p.slice(i + 1, j);
      const neg = body[0] === "!";
      if (neg) body = body.slice(1);
      const items: [number, number][] = [];
      for (let k = 0; k < body.length; k++) {
        if (body[k + 1] === "-" && k + 2 < body.length) {
          items.push([body[k]!.codePointAt(0)!, body[k + 2]!.codePointAt(0)!]);
          k += 2;
        } else items.push([body[k]!.codePointAt(0)!, body[k]!.codePointAt(0)!]);
      }
      toks.push({
        star: false,
        ok: (x) => items.some(([lo, hi]) => x.codePointAt(0)! >= lo && x.codePointAt(0)! <= hi) !== neg,
      });
      i = j;
    } else toks.push({ star: false, ok: (x) => x === c });
  }
  let row = new Array<boolean>(s.length + 1).fill(false);
  row[0] = true;
  for (const t of toks) {
    const next = new Array<boolean>(s.length + 1).fill(false);
    for (let j = 0; j <= s.length; j++) {
      if (t.star) next[j] = row[j]! || (j > 0 && next[j - 1]!);
      else next[j] = j > 0 && row[j - 1]! && t.ok(s[j - 1]!);
    }
    row = next;
  }
  return row[s.length]!;
}

Deno.test("fuzz: random patterns agree with an independent matcher", () => {
  const alphabet = ["a", "b", "/", "-", "]", "[", "!", "*", "?", "é", "😀"];
  const nameAlphabet = ["a", "b", "/", "-", "]", "[", "!", "é", "😀"];
  let matched = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const rng = new SeededRng(seed);
    const pattern = Array.from({ length: rng.int(9) }, () => alphabet[rng.int(alphabet.length)]!).join("");
    const random = () =>
      Array.from({ length: rng.int(6) }, () => nameAlphabet[rng.int(nameAlphabet.length)]!).join("");
    // Half the names are instances of the pattern (stars filled in), so that matches are exercised too.
    const name = seed % 2 === 0
      ? random() + random()
      : pattern.replaceAll("*", () => random()).replaceAll("?", "a");
    const expected = oracle(pattern, name);
    assertEquals(
      compileGlob(pattern).test(name),
      expected,
      `${JSON.stringify(pattern)} vs ${JSON.stringify(name)}`,
    );
    if (expected) matched++;
  }
  assert(matched > 100, `the fuzz should exercise matches too, got ${matched}`);
});

Deno.test("globToLike: stars and marks become % and _, a set any one character, LIKE's own characters escaped", () => {
  const cases: [string, string][] = [
    ["/S/*/AOD", "/S/%/AOD"],
    ["a?b", "a_b"],
    ["**x", "%%x"],
    ["/a_b%c\\d/*", "/a\\_b\\%c\\\\d/%"],
    ["[ab]x", "_x"],
    ["x[!a-c]*", "x_%"],
    ["[unclosed", "[unclosed"],
    ["é😀?", "é😀_"],
  ];
  for (const [glob, like] of cases) assertEquals(globToLike(glob), like, glob);
});
