/**
 * The cost of strict body reading on a large injection document: UTF-8
 * validation and the duplicate-key scan, beside JSON.parse and the
 * injection's own validation (the work they are added to).
 * `deno run -A bench/strict_input.ts [FILES]` prints one JSON object.
 */
import { decodeUtf8, findDuplicateKey } from "../registry/http/strict_input.ts";
import { injectionToCommands } from "../registry/inventory/mod.ts";

const files = Number(Deno.args[0] ?? 200_000);
const perBlock = 100;
const doc = {
  dataset: [{
    name: "/Prim/Proc-v1/AOD",
    status: "valid",
    blocks: Array.from({ length: Math.ceil(files / perBlock) }, (_, b) => ({
      name: `b${b}`,
      files: Array.from({ length: perBlock }, (_, f) => ({
        name: `/store/data/Run2026/Prim/AOD/v1/000/${b}/${f}.root`,
        size: 2_000_000_000 + f,
        adler32: "0000abcd",
      })),
    })),
  }],
};
const text = JSON.stringify(doc);
const bytes = new TextEncoder().encode(text);

function ms(f: () => unknown, runs = 5): number {
  f();
  const start = performance.now();
  for (let i = 0; i < runs; i++) f();
  return Math.round((performance.now() - start) / runs * 10) / 10;
}

const lenient = new TextDecoder();
const parsed = JSON.parse(text);
ms(() => lenient.decode(bytes)); // the first measurement pays for collecting the set-up's garbage
const figures = {
  files,
  body_mb: Math.round(bytes.length / 1e5) / 10,
  raw_decode_ms: ms(() => lenient.decode(bytes)),
  utf8_check_ms: ms(() => decodeUtf8(bytes)),
  json_parse_ms: ms(() => JSON.parse(text)),
  duplicate_key_scan_ms: ms(() => findDuplicateKey(text)),
  injection_validation_ms: ms(() => injectionToCommands(parsed), 2),
};
console.log(JSON.stringify(figures));
