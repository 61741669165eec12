import { assertEquals } from "../../tests/helpers/assert.ts";
import type { AppLock } from "../../registry/requests/app_lock.ts";
import { dispatch, type DispatchInput, type DispatchSequence, WAITING_FOR_INVENTORY } from "./dispatch.ts";
import { parseSequenceFile } from "./sequence_file.ts";

const file = parseSequenceFile(`
<detox> = /x/detox
<dealer> = /x/dealer
{report} = /x/report
[SEQUENCE clean]
^ [2] <detox> --partition AnalysisOps
WAIT 60
[SEQUENCE fill]
& <dealer>
TERMINATE
[SEQUENCE look]
| {report} daily
`);
const NOW = Date.UTC(2026, 6, 1);
const [clean, fill, look] = file.sequences as [
  typeof file.sequences[0],
  typeof file.sequences[0],
  typeof file.sequences[0],
];

function seq(def: typeof clean, over: Partial<DispatchSequence> = {}): DispatchSequence {
  return { def, enabled: true, position: 0, notBefore: 0, running: false, ...over };
}

function run(over: Partial<DispatchInput> = {}) {
  return dispatch({
    nowMs: NOW,
    inventoryReady: true,
    apps: file.apps,
    locks: [],
    lockName: (app) => app.title,
    writerRunning: false,
    queue: [],
    sequences: [seq(clean), seq(fill), seq(look)],
    ...over,
  });
}

const lock = (app: string, note: string | null = null): AppLock => ({
  app: app as AppLock["app"],
  user: "alice",
  service: null,
  note,
  since: 0,
});

Deno.test("dispatch: one writer at a time, readers beside it, in round-robin order", () => {
  const detox = file.apps.get("detox")!;
  const report = file.apps.get("report")!;
  assertEquals(run(), [
    {
      kind: "start_step",
      sequence: "clean",
      app: detox,
      args: ["--partition", "AnalysisOps"],
      timeoutHours: 2,
    },
    { kind: "blocked", sequence: "fill", reason: "writer busy" },
    { kind: "start_step", sequence: "look", app: report, args: ["daily"], timeoutHours: null },
  ]);
  // Another order (fill was at the front): the dealer starts and Detox waits.
  assertEquals(
    run({ sequences: [seq(fill), seq(clean)] }).map((a) => [a.kind, "sequence" in a ? a.sequence : ""]),
    [
      ["start_step", "fill"],
      ["blocked", "clean"],
    ],
  );
  assertEquals(
    run({ writerRunning: true, sequences: [seq(clean), seq(look)] }).map((a) => a.kind),
    ["blocked", "start_step"],
    "a writer already running blocks writers only",
  );
});

Deno.test("dispatch: runs by hand go first; a writer among them blocks the sequences' writers", () => {
  const queue = [
    { id: 1, title: "dealer", write: true },
    { id: 2, title: "detox", write: true },
    { id: 3, title: "report", write: false },
    { id: 4, title: "gone", write: false },
  ];
  assertEquals(
    run({ queue, sequences: [seq(clean), seq(look)] }).map((a) => a.kind === "start_queued" ? a.id : a.kind),
    [
      1,
      3,
      "blocked",
      "start_step",
    ],
  );
});

Deno.test("dispatch: an application lock on the runner's name or the title blocks, and says who holds it", () => {
  assertEquals(run({ locks: [lock("detox", "repairing T2_X")], sequences: [seq(clean)] }), [
    { kind: "blocked", sequence: "clean", reason: "locked by alice (repairing T2_X)" },
  ]);
  assertEquals(
    run({ locks: [lock("requests")], lockName: () => "requests", sequences: [seq(look)] }),
    [{ kind: "blocked", sequence: "look", reason: "locked by alice" }],
  );
  assertEquals(
    run({ locks: [lock("detox")], queue: [{ id: 5, title: "detox", write: true }], sequences: [] }),
    [],
    "a locked run by hand stays queued",
  );
});

Deno.test("dispatch: WAIT sleeps with the cursor past it; TERMINATE stops; stopped, running or sleeping do nothing", () => {
  assertEquals(run({ sequences: [seq(clean, { position: 1 })] }), [
    { kind: "wait", sequence: "clean", waitMs: 60_000, position: 0 },
  ]);
  assertEquals(run({ sequences: [seq(fill, { position: 1 })] }), [{ kind: "terminate", sequence: "fill" }]);
  assertEquals(
    run({
      sequences: [
        seq(clean, { enabled: false }),
        seq(fill, { running: true }),
        seq(look, { notBefore: NOW + 1 }),
      ],
    }),
    [],
  );
  assertEquals(run({ sequences: [seq(look, { notBefore: NOW })] }).map((a) => a.kind), ["start_step"]);
});

Deno.test("dispatch: nothing starts before the inventory is loaded", () => {
  assertEquals(
    run({ inventoryReady: false, queue: [{ id: 1, title: "report", write: false }] }),
    ["clean", "fill", "look"].map((sequence) => ({
      kind: "blocked",
      sequence,
      reason: WAITING_FOR_INVENTORY,
    })),
  );
});
