import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { PolicySyntaxError } from "../language/errors.ts";
import { evaluateSeconds, parseSequenceFile } from "./sequence_file.ts";
import { describePolicyFile } from "../describe_policy_file.ts";

const CMS_SEQ = new URL("../../../shared/reference/cms-policies/config/cms.seq", import.meta.url);
const cmsSeq = await Deno.readTextFile(CMS_SEQ).catch(() => null);

Deno.test({
  name: "the real CMS sequence file parses unchanged (needs ../shared/reference/cms-policies)",
  ignore: cmsSeq === null,
  fn() {
    const seq = parseSequenceFile(cmsSeq!, "cms.seq");
    assertEquals(seq.apps.size, 11);
    assertEquals(seq.apps.get("detox")?.write, true);
    assertEquals(seq.apps.get("siteinfo")?.write, false);
    assertEquals(seq.sequences.map((s) => s.name), [
      "delta_update",
      "site_update",
      "full_update",
      "detox_snapshot",
      "detox",
      "dealer",
      "dealermon",
      "queuemanager",
    ]);
    const detox = seq.sequences.find((s) => s.name === "detox")!;
    assertEquals(detox.steps.map((s) => s.kind === "run" ? `${s.onFailure}:${s.app}` : s.kind), [
      "ignore:update_popularity",
      "retry:convert_locks",
      "retry:detox",
      "retry:detox",
      "retry:detox",
      "retry:detox",
      "retry:siteinfo",
      "wait",
    ]);
    const dealer = seq.sequences.find((s) => s.name === "dealer")!;
    const first = dealer.steps[1]!;
    assert(first.kind === "run");
    assertEquals([first.onFailure, first.args], ["restart", ["--config", "/etc/dynamo/dealer_config.json"]]);
    const full = seq.sequences.find((s) => s.name === "full_update")!;
    assertEquals(full.steps[0], { kind: "wait", seconds: 1209600, line: full.steps[0]!.line });
  },
});

Deno.test("sequences: restart, timeouts, TERMINATE and WAIT expressions", () => {
  const seq = parseSequenceFile(
    [
      "<dealer> = exec/dealer",
      "{report} = exec/report",
      "",
      "[SEQUENCE nightly] restart",
      "^ [2] <dealer> --config d.json",
      "| {report}",
      "WAIT 3600*4 + 60",
      "TERMINATE",
    ].join("\n"),
  );
  const [nightly] = seq.sequences;
  assertEquals(nightly!.restart, true);
  assertEquals(nightly!.steps, [
    {
      kind: "run",
      app: "dealer",
      args: ["--config", "d.json"],
      onFailure: "restart",
      timeoutHours: 2,
      line: 5,
    },
    { kind: "run", app: "report", args: [], onFailure: "ignore", timeoutHours: null, line: 6 },
    { kind: "wait", seconds: 14460, line: 7 },
    { kind: "terminate", line: 8 },
  ]);
  assertEquals(evaluateSeconds("(10 + 5) * 2 / 3"), 10);
});

Deno.test("sequence files: garbage and hostile text is an error naming the line, never half-accepted", () => {
  const cases: [string, RegExp][] = [
    ["[SEQUENCE a]\n& <detox>", /2:1: application detox is not defined/],
    [
      "<detox> = x\n[SEQUENCE a]\n& {detox}",
      /3:1: application detox is defined <write> on line 1; call it the same way/,
    ],
    ["<detox> = x\n<detox> = y", /2:1: application detox is defined twice/],
    ["<detox> =", /1:1: application detox has no path/],
    ["[SEQUENCE a]\n<late> = x", /2:1: application late is defined inside \[SEQUENCE a\]/],
    ["[SEQUENCE a] sometimes\nWAIT 1", /unknown sequence option "sometimes"/],
    ["[SEQUENCE a]\nWAIT 1\n[SEQUENCE a]\nWAIT 1", /3:1: sequence a is defined twice/],
    ["[SEQUENCE a]", /1:1: sequence a has no steps/],
    ["[SEQUENCE ../etc]\nWAIT 1", /expected \[SEQUENCE name\]/],
    ["WAIT 10", /1:1: "WAIT 10" is outside any \[SEQUENCE name\]/],
    ["[SEQUENCE a]\nWAIT", /WAIT needs a number of seconds/],
    ["[SEQUENCE a]\nWAIT 0", /WAIT must be more than 0/],
    ["[SEQUENCE a]\nWAIT 99999999999", /WAIT must be more than 0 and at most/],
    ["[SEQUENCE a]\nWAIT 1/0", /division by zero/],
    ["[SEQUENCE a]\nWAIT process.exit()", /unexpected "p"/],
    ["[SEQUENCE a]\nWAIT (1 + 2", /missing \)/],
    ["[SEQUENCE a]\nWAIT 1 2", /unexpected "2"/],
    ["[SEQUENCE a]\nTERMINATE now", /TERMINATE takes nothing after it/],
    ["<d> = x\n[SEQUENCE a]\n^ [soon] <d>", /the timeout in \[soon\] must be a positive number of hours/],
    ["<d> = x\n[SEQUENCE a]\n^ [-1] <d>", /positive number of hours/],
    ["<d> = x\n[SEQUENCE a]\n* <d>", /expected "\^", "&" or "\|" and an application/],
    ["<d> = x\n[SEQUENCE a]\nrm -rf /", /expected "\^", "&" or "\|"/],
    ["[SEQUENCE a]\nWAIT 1\u0000", /2:1: NUL character/],
  ];
  for (const [text, pattern] of cases) {
    const error = assertThrows(() => parseSequenceFile(text, "t.seq"), PolicySyntaxError);
    assert(pattern.test(error.message), `${JSON.stringify(text)}: ${error.message}`);
    assert(error.message.startsWith("t.seq:"), error.message);
  }
});

Deno.test("policy check recognises a sequence file and describes it", () => {
  const lines = describePolicyFile(
    "<dealer> = exec/dealer\n[SEQUENCE d] restart\n^ <dealer>\nWAIT 60*30\n",
    "d.seq",
    0,
  );
  assertEquals(lines, [
    "d.seq: 1 applications, 1 sequences",
    "  <dealer> = exec/dealer",
    "  [d] restart: 1 step(s), waits 1800 s",
  ]);
});
