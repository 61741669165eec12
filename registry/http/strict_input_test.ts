import { assertEquals } from "../../tests/helpers/assert.ts";
import {
  badPercentEncoding,
  decodeUtf8,
  duplicateKeyParameter,
  findDuplicateKey,
  unstorableString,
} from "./strict_input.ts";

function dup(text: string): string | null {
  JSON.parse(text); // the checker is only ever given valid JSON
  const d = findDuplicateKey(text);
  return d ? duplicateKeyParameter(d) : null;
}

Deno.test("duplicated keys are found at any depth and named by their path", () => {
  assertEquals(dup(`{"site":"A","site":"B"}`), "site");
  assertEquals(dup(`{"dataset":[],"group":[],"dataset":[{"name":"/A/B/C"}]}`), "dataset");
  assertEquals(dup(`{"dataset":[{"name":"/A/B/C","name":"/X/Y/Z"}]}`), "dataset[0].name");
  assertEquals(
    dup(`{"dataset":[{"name":"a"},{"name":"b","blocks":[{"name":"b1","files":[{},{"size":1,"size":2}]}]}]}`),
    "dataset[1].blocks[0].files[1].size",
  );
  assertEquals(dup(`{"a b":{"k":1,"k":2}}`), `["a b"].k`);
  assertEquals(dup(`[{"x":1},{"x":1,"x":2}]`), "[1].x");
});

Deno.test("keys are compared after escapes are decoded; strings and nesting do not confuse the scan", () => {
  assertEquals(dup(`{"a":1,"\\u0061":2}`), "a");
  assertEquals(dup(`{"a\\"b":1,"a\\"b":2}`), `["a\\"b"]`);
  assertEquals(dup(`{"a\\\\":1,"b":"\\\\\\"x, {\\"a\\":1}","c":[1,{"a":1}],"a":[{"a":2}]}`), null);
  assertEquals(dup(`{"s":"{\\"k\\":1,\\"k\\":2}","n":[1,2,[3,{"k":1}]],"k":{"k":{"k":1}}}`), null);
  assertEquals(dup(`{"a":{"x":1},"b":{"x":1}}`), null, "the same key in sibling objects is fine");
  assertEquals(dup(`"just a string"`), null);
  assertEquals(dup(`  { }  `), null);
  // Large objects switch to a set; a duplicate after the switch is still found.
  const many = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(",");
  assertEquals(dup(`{${many}}`), null);
  assertEquals(dup(`{${many},"k3":0}`), "k3");
});

Deno.test("bytes that are not UTF-8 and percent-escapes that do not decode are refused", () => {
  assertEquals(decodeUtf8(new TextEncoder().encode(`{"name":"caf\u00e9"}`)), `{"name":"caf\u00e9"}`);
  assertEquals(decodeUtf8(new Uint8Array([0x7b, 0xff, 0x7d])), null);
  assertEquals(decodeUtf8(new Uint8Array([0xed, 0xa0, 0x80])), null, "an encoded surrogate is not UTF-8");
  assertEquals(decodeUtf8(new Uint8Array([0xc3])), null, "a truncated sequence");
  assertEquals(badPercentEncoding("?dataset=%2FA%2FB&x=caf%C3%A9"), null);
  assertEquals(badPercentEncoding("?dataset=%FF"), "%FF");
  assertEquals(badPercentEncoding("site=T2%ED%A0%80&x=1"), "T2%ED%A0%80");
  assertEquals(badPercentEncoding("a=%"), "%");
});

Deno.test("fuzz: the scan agrees with a reference on random nested documents", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const keys = ["a", "b", "\\u0061", 'a\\"', "{", "[", ",", "\\\\"];
  const gen = (depth: number): string => {
    const r = rand(depth > 3 ? 3 : 6);
    if (r === 0) return String(rand(1000) - 500);
    if (r === 1) return JSON.stringify(["x", '"', "{,}", "\\"][rand(4)]);
    if (r === 2) return ["true", "null", "1.5e3"][rand(3)]!;
    if (r === 3) return `[${Array.from({ length: rand(4) }, () => gen(depth + 1)).join(",")}]`;
    return `{${
      Array.from({ length: rand(4) }, () => `"${keys[rand(keys.length)]}": ${gen(depth + 1)}`).join(", ")
    }}`;
  };
  // Reference: a recursive parse of the same text keeping every key.
  const hasDup = (text: string): boolean => {
    let found = false;
    let i = 0;
    const ws = () => {
      while (/\s/.test(text[i] ?? "")) i++;
    };
    const str = () => {
      const start = i++;
      while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
      return JSON.parse(text.slice(start, i)) as string;
    };
    const value = (): void => {
      ws();
      if (text[i] === "{") {
        i++;
        const seen = new Set<string>();
        ws();
        while (text[i] !== "}") {
          ws();
          const k = str();
          if (seen.has(k)) found = true;
          seen.add(k);
          ws();
          i++; // :
          value();
          ws();
          if (text[i] === ",") i++;
          ws();
        }
        i++;
      } else if (text[i] === "[") {
        i++;
        ws();
        while (text[i] !== "]") {
          value();
          ws();
          if (text[i] === ",") i++;
          ws();
        }
        i++;
      } else if (text[i] === '"') str();
      else while (/[^,}\]\s]/.test(text[i] ?? ",")) i++;
    };
    value();
    return found;
  };
  for (let n = 0; n < 2000; n++) {
    const text = gen(0);
    assertEquals(findDuplicateKey(text) !== null, hasDup(text), text);
  }
});

Deno.test("a lone surrogate or a NUL anywhere in a JSON body is found, with its path", () => {
  const ill = (text: string) => unstorableString(text, JSON.parse(text))?.path ?? null;
  assertEquals(ill(`{"dataset":[{"name":"/S\\ud800/B/C"}]}`), "dataset[0].name");
  assertEquals(ill(`[{"item":"x"},{"item":"\\udfff"}]`), "[1].item");
  assertEquals(ill(`{"\\ud800":1}`), `["\\ud800"]`);
  assertEquals(ill(`"\\ud800"`), "body");
  // A correct pair, and text that only looks like an escape, are fine.
  assertEquals(ill(`{"name":"\\ud83d\\ude00","other":"\\\\ud800"}`), null);
  assertEquals(ill(`{"name":"plain"}`), null);
  // NUL: PostgreSQL cannot store it in text or jsonb (a mapping pattern is not otherwise checked for it).
  const nul = `{"site":[{"name":"T2_A","filename_mappings":{"posix":[[["/store/\\u0000(.*)","/x/{0}"]]]}}]}`;
  assertEquals(unstorableString(nul, JSON.parse(nul)), {
    path: "site[0].filename_mappings.posix[0][0][0]",
    reason: "must not contain control characters (NUL)",
  });
});
