import { assertEquals } from "../../tests/helpers/assert.ts";
import { ProgressDisplay, progressLine } from "./check_progress.ts";

const p = (dirs: number, files: number, queued = 0, failed = 0) => ({ dirs, files, queued, failed });

Deno.test("progressLine: directories, files, queue and unreadable directories, elapsed", () => {
  assertEquals(progressLine("T2_X", p(3, 120), 4.9), "T2_X: 3 directories, 120 files listed, 4 s");
  assertEquals(
    progressLine("T2_X", p(3, 120, 7, 1), 61),
    "T2_X: 3 directories, 120 files listed, 7 queued, 1 unreadable, 61 s",
  );
  assertEquals(progressLine("T2_X", null, -1), "T2_X: waiting to start, 0 s");
});

Deno.test("ProgressDisplay on a terminal: one line rewritten in place, cleared at the end", () => {
  const out: string[] = [];
  const d = new ProgressDisplay({ isTerminal: true, write: (t) => out.push(t) }, "T2_X");
  d.show(p(1, 2), 0);
  d.show(p(1, 2), 1);
  d.end();
  d.end();
  assertEquals(out, [
    "\rT2_X: 1 directories, 2 files listed, 0 s\x1b[K",
    "\rT2_X: 1 directories, 2 files listed, 1 s\x1b[K",
    "\r\x1b[K",
  ]);
});

Deno.test("ProgressDisplay elsewhere: plain lines, only when the counts move", () => {
  const out: string[] = [];
  const d = new ProgressDisplay({ isTerminal: false, write: (t) => out.push(t) }, "T2_X");
  d.show(null, 0);
  d.show(p(1, 2), 1);
  d.show(p(1, 2), 2);
  d.show(p(2, 5), 3);
  d.end();
  assertEquals(out, [
    "T2_X: waiting to start, 0 s\n",
    "T2_X: 1 directories, 2 files listed, 1 s\n",
    "T2_X: 2 directories, 5 files listed, 3 s\n",
  ]);
});
