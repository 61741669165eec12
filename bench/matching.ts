/**
 * `deno run -A bench/matching.ts`: what linear-time matching costs on ordinary
 * patterns, beside the backtracking native RegExp it replaced (issue 21), and
 * how both fare on the hostile patterns. Prints one JSON object; never a test.
 */
import { compileGlob, compileLinearRegex } from "../registry/inventory/mod.ts";

const N = 100_000;
const names = Array.from(
  { length: N },
  (_, i) =>
    `/Primary${i % 997}_TuneCP5_13TeV-pythia8/Run${2016 + (i % 8)}-UL_v${i % 13}-v${i % 3}/${
      ["MINIAODSIM", "AODSIM", "NANOAOD", "RAW"][i % 4]
    }`,
);
const lfns = names.map((n, i) => `/store/mc${n}/${i}/file.root`);

/** The translation the registry used before: a backtracking RegExp. */
function nativeGlob(pattern: string): RegExp {
  let re = "^";
  for (const ch of pattern) {
    if (ch === "*") re += ".*";
    else if (ch === "?") re += ".";
    else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(re + "$", "s");
}

function ms(f: () => unknown, repeat = 3): number {
  f(); // warm-up
  let best = Infinity;
  for (let r = 0; r < repeat; r++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return Math.round(best * 10) / 10;
}

const count = (test: (s: string) => boolean, inputs: string[]) => inputs.filter(test).length;

const globs = ["/Primary1*/*/MINIAODSIM", "*UL_v1-*", "/Primary99?_*/Run2018*/*", "*/RAW"];
const figures: Record<string, unknown> = {};
for (const g of globs) {
  const ours = compileGlob(g);
  const theirs = nativeGlob(g);
  if (count((s) => ours.test(s), names) !== count((s) => theirs.test(s), names)) throw new Error(g);
  figures[`glob ${g} over ${N} names (ms)`] = {
    linear: ms(() => count((s) => ours.test(s), names)),
    native_regexp: ms(() => count((s) => theirs.test(s), names)),
  };
}
const policy = "/[^/]+/[^/]*-UL_v1-[^/]*/MINIAOD.*";
const linearPolicy = compileLinearRegex(policy, { anchor: "prefix", dotAll: true });
const nativePolicy = new RegExp(`^(?:${policy})`, "s");
figures[`policy regex ${policy} over ${N} names (ms)`] = {
  linear: ms(() => count((s) => linearPolicy.test(s), names)),
  native_regexp: ms(() => count((s) => nativePolicy.test(s), names)),
};
const mapping = "/+store/mc/(.*)/([0-9]+)/(.*)";
const linearMapping = compileLinearRegex(mapping, { anchor: "whole" });
const nativeMapping = new RegExp(`^(?:${mapping})$`);
figures[`mapping ${mapping} with captures over ${N} LFNs (ms)`] = {
  linear: ms(() => lfns.forEach((l) => linearMapping.exec(l))),
  native_regexp: ms(() => lfns.forEach((l) => nativeMapping.exec(l))),
};
let round = 0; // distinct patterns each round: the compile cache must not answer
figures["compile 1000 distinct regexes (ms)"] = {
  linear: ms(() => {
    round += 1;
    for (let i = 0; i < 1000; i++) {
      compileLinearRegex(`/Primary${i}_${round}.*/Run20(1[6-9]|2[0-3]).*/(MINI)?AODSIM`, {
        anchor: "prefix",
      });
    }
  }, 1),
  native_regexp: ms(() => {
    for (let i = 0; i < 1000; i++) new RegExp(`^(?:/Primary${i}_.*/Run20(1[6-9]|2[0-3]).*/(MINI)?AODSIM)`);
  }, 1),
};
const hostileName = "/" + "a".repeat(160);
figures["hostile: *a*a*a*a*a*b vs a 160-character name (ms)"] = {
  linear: ms(() => compileGlob("*a*a*a*a*a*b").test(hostileName)),
  native_regexp: "did not finish within 120 s (issue 21)",
};
figures["hostile: (a+)+b vs / and 30 a's (ms)"] = {
  linear: ms(() => compileLinearRegex("/(a+)+b", { anchor: "prefix" }).test("/" + "a".repeat(30))),
  native_regexp: "25–30 s, doubling per character (issue 21)",
};
console.log(JSON.stringify(figures, null, 2));
