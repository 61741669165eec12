import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { Buffer } from "node:buffer";
import { brotliCompressSync } from "node:zlib";
import {
  decodeCommands,
  decodeJournalRow,
  encodeCommands,
  JOURNAL_FORMAT,
  NEWEST_JOURNAL_FORMAT,
  PACKED_JOURNAL_FORMAT,
  packJournalText,
  unpackJournalText,
} from "./journal_codec.ts";

/** Decoded commands must equal the originals as JSON does: same keys, same order, same values. */
function assertRoundTrip(commands: object[]): string {
  const text = encodeCommands(commands);
  const decoded = decodeCommands(text);
  assertEquals(JSON.stringify(decoded), JSON.stringify(commands));
  assertEquals(decoded, JSON.parse(JSON.stringify(commands)));
  return text;
}

const HOSTILE_STRINGS = [
  "",
  "quote \" and ' and `",
  "back\\slash \\\\ \\u0000 \\n",
  "nul \u0000 inside",
  "\u0000",
  "tab\tnewline\ncr\r",
  "unicode é ü 漢字 🚀 \u2028 \u2029",
  "lone surrogate \ud800 and \udfff",
  '{"k":[],"s":[],"r":[]}',
  "[1,2]",
];

Deno.test("a batch of replicas at one site round-trips in under 40 % of the plain JSON", () => {
  const commands: object[] = [];
  for (let d = 0; d < 50; d++) {
    const dataset = `/Primary${d}/Campaign-v1/AOD`;
    commands.push({ op: "dataset_replica.upsert", dataset, site: "T3_BENCH", group: "AnalysisOps" });
    for (let b = 0; b < 10; b++) {
      commands.push({
        op: "block_replica.upsert",
        dataset,
        block: `${d}-${b}-0123456789abcdef0123456789ab`,
        site: "T3_BENCH",
        files: [],
      });
    }
  }
  const text = assertRoundTrip(commands);
  const plain = JSON.stringify(commands).length;
  assertEquals(text.length < plain * 0.4, true, `${text.length} of ${plain}`);
});

Deno.test("hostile strings round-trip exactly, as values and as key names", () => {
  const commands: object[] = [];
  for (const s of HOSTILE_STRINGS) {
    commands.push({ op: "dataset.upsert", name: s });
    commands.push({ op: "dataset.upsert", name: s }); // the same value again: taken from the last
    commands.push({ op: s, [s]: s, nested: { [s]: [s, null, 1.5] } });
  }
  assertRoundTrip(commands);
});

Deno.test("key lists that would join to the same text keep their own shapes", () => {
  assertRoundTrip([{ a: 1, b: 2 }, { "a\u0000b": 3 }]);
  assertRoundTrip([{ "a\u0000b": 3 }, { a: 1, b: 2 }, { "a\u0000": 4, b: 5 }, { a: 6, "\u0000b": 7 }]);
});

Deno.test("a key list that begins another keeps its own shape, in either order", () => {
  const commands = [{ a: 1 }, { a: 1, b: 2 }, { a: 3 }, { a: 4, b: undefined }, { a: 5, b: 6, c: 7 }];
  const text = assertRoundTrip(commands);
  assertEquals(JSON.parse(text).s, [[0], [0, 1], [0, 1, 2]]);
  assertRoundTrip([{ a: 1, b: 2 }, { a: 1 }, { b: 2 }, { b: 2, a: 1 }]);
});

Deno.test("repeated values come from the last command with that key, whatever its op", () => {
  const commands = [
    { op: "a", x: 1, y: "s" },
    { op: "b", y: "s", x: 1 }, // other key order: another shape, same last values
    { op: "b", x: 2, y: "s", z: null },
    { op: "a", x: 2, y: "t" },
    { op: "a", x: 2, y: "t" },
  ];
  assertRoundTrip(commands);
  const decoded = decodeCommands(encodeCommands(commands)) as Record<string, unknown>[];
  assertEquals(decoded.map((c) => Object.keys(c)), commands.map((c) => Object.keys(c)));
});

Deno.test("values that JSON changes or leaves out are changed or left out the same way", () => {
  const commands = [
    { op: "x", a: undefined, b: NaN, c: -0, d: Infinity, e: [undefined, () => 1], f: () => 1 },
    { op: "x", a: 1, b: NaN, c: 0, d: Infinity, e: { g: undefined, h: true } },
    { op: "x", b: false, c: 0, d: 1e300, e: new Date(0) },
    { op: "x", b: false, c: 0, d: 1e300, e: new Date(0) },
  ];
  assertRoundTrip(commands);
});

Deno.test("objects and arrays are written each time, never taken as repeats", () => {
  const files = ["/store/a"];
  const commands = [
    { op: "block_replica.upsert", files },
    { op: "block_replica.upsert", files },
  ];
  const decoded = decodeCommands(encodeCommands(commands)) as { files: string[] }[];
  assertEquals(decoded[0]!.files, files);
  assertEquals(decoded[0]!.files === decoded[1]!.files, false);
});

Deno.test("more keys than the repeat bits still round-trip", () => {
  const wide = (v: number) =>
    Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i < 35 ? 7 : v]));
  assertRoundTrip([wide(1), wide(1), wide(2), { k39: 2 }]);
});

Deno.test("a key named __proto__ stays an own key and sets no prototype", () => {
  const text = '{"k":["op","__proto__"],"s":[[0,1]],"r":[[0,0,"x",{"polluted":true}]]}';
  const [command] = decodeCommands(text) as Record<string, unknown>[];
  assertEquals(Object.getPrototypeOf(command), Object.prototype);
  assertEquals(Object.keys(command!), ["op", "__proto__"]);
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
  assertRoundTrip([JSON.parse('{"op":"y","__proto__":{"a":1}}')]);
});

Deno.test("journal rows written as a plain JSON array still decode", () => {
  const commands = [{ op: "site.upsert", name: "T2_A" }, { op: "site.delete", name: "T2_A" }];
  assertEquals(decodeCommands(JSON.stringify(commands)), commands);
  assertEquals(decodeCommands("[]"), []);
  assertEquals(decodeCommands(encodeCommands([])), []);
});

Deno.test("text that is not a journal is refused, not half decoded", () => {
  for (
    const garbage of [
      "",
      "{",
      "null",
      "7",
      '"[]"',
      "{}",
      '{"k":[],"s":[],"r":{}}',
      '{"k":[],"s":[],"r":[7]}',
      '{"k":["op"],"s":[[0]],"r":[[1,0,"x"]]}', // unknown shape
      '{"k":["op"],"s":[[0]],"r":[["__proto__",0,"x"]]}',
      '{"k":["op"],"s":[[3]],"r":[[0,0,"x"]]}', // unknown key
      '{"k":["op"],"s":[["length"]],"r":[[0,0,"x"]]}',
      '{"k":[7],"s":[[0]],"r":[[0,0,"x"]]}', // key that is not a string
      '{"k":["op"],"s":[[0]],"r":[[0,1]]}', // repeat of a value never given
      '{"k":["op"],"s":[[0]],"r":[[0,0]]}', // short of values
      '{"k":["op"],"s":[[0]],"r":[[0,0,"x","y"]]}', // values left over
      '{"k":["op"],"s":[[0]],"r":[[0,"0","x"]]}', // repeat bits not a number
    ]
  ) {
    let thrown: unknown = null;
    try {
      decodeCommands(garbage);
    } catch (e) {
      thrown = e;
    }
    assertEquals(thrown instanceof SyntaxError, true, `decoded: ${garbage}`);
  }
});

Deno.test("rows of format 1 (either text) and of the current format decode; others are refused by name", () => {
  const commands = [{ op: "site.upsert", name: "T2_A" }];
  assertEquals(decodeJournalRow(1, 7, JSON.stringify(commands)), commands);
  assertEquals(decodeJournalRow(1, 7, encodeCommands(commands)), commands);
  assertEquals(decodeJournalRow(JOURNAL_FORMAT, 7, encodeCommands(commands)), commands);
  assertEquals(
    decodeJournalRow(PACKED_JOURNAL_FORMAT, 7, packJournalText(encodeCommands(commands))),
    commands,
  );
  for (const format of [NEWEST_JOURNAL_FORMAT + 1, 0, -1, 1.5, Number.NaN, 2 ** 40]) {
    let message = "";
    try {
      decodeJournalRow(format, 7, encodeCommands(commands));
    } catch (e) {
      message = String(e);
    }
    assertEquals(message.includes(`Journal row 7 is in format ${format}`), true, message);
  }
});

Deno.test("a packed row (format 3) gives back every command exactly, and is smaller than its text", () => {
  const commands: object[] = [];
  for (let i = 0; i < 5_000; i++) {
    commands.push({
      op: "block_replica.upsert",
      dataset: `/Primary${i % 97}/Run2024-v${i % 3}/AOD`,
      block: `${crypto.randomUUID()}`,
      site: "T2_CH_CERN",
      files: i % 7 === 0 ? ['/store/ü/\u0000"quoted"', "\ud83d\ude00"] : [],
    });
  }
  const text = encodeCommands(commands);
  const packed = packJournalText(text);
  assert(/^[A-Za-z0-9+/]*={0,2}$/.test(packed), "packed text is base64");
  assert(packed.length < text.length * 0.8, `${packed.length} of ${text.length}`);
  assertEquals(decodeJournalRow(PACKED_JOURNAL_FORMAT, 9, packed), commands);
  assertEquals(decodeJournalRow(PACKED_JOURNAL_FORMAT, 9, packJournalText("[]")), []);
});

Deno.test("a damaged packed row is refused, never decoded", () => {
  const good = packJournalText(encodeCommands([{ op: "site.upsert", name: "T2_A" }]));
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
  for (
    const garbage of [
      "",
      "not base64!",
      good.slice(0, good.length - 8), // cut short
      "A" + good, // shifted
      good.replace(/[A-Za-z]/, (c) => (c === "A" ? "B" : "A")), // one byte changed
      `${good}\n`,
      encodeCommands([{ op: "site.upsert", name: "T2_A" }]), // plain text where packed is said
      b64(new Uint8Array(64).fill(0xff)),
      b64(brotliCompressSync(new Uint8Array([0xc3, 0x28]))), // unpacks to bytes that are not UTF-8
      b64(brotliCompressSync(Buffer.from('{"k":1}'))), // unpacks to text that is not the compact format
    ]
  ) {
    let message = "";
    try {
      decodeJournalRow(PACKED_JOURNAL_FORMAT, 42, garbage);
    } catch (e) {
      message = String(e);
    }
    assert(
      message.startsWith("SyntaxError"),
      `decoded: ${JSON.stringify(garbage.slice(0, 40))} (${message})`,
    );
  }
});

Deno.test("a packed row that unpacks beyond the limit is refused, not unpacked", () => {
  // 8 MB of spaces packs into a few dozen characters; with a 1 MB limit it must fail, with the row's number.
  const bomb = Buffer.from(brotliCompressSync(Buffer.alloc(8 << 20, 0x20))).toString("base64");
  assert(bomb.length < 200, `${bomb.length}`);
  let message = "";
  try {
    unpackJournalText(5, bomb, 1 << 20);
  } catch (e) {
    message = String(e);
  }
  assert(message.includes("Journal row 5") && message.includes("does not unpack"), message);
  assertEquals(unpackJournalText(5, bomb, 9 << 20).length, 8 << 20); // the limit is what refused it
});
