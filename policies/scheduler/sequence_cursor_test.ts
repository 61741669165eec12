import { assertEquals } from "../../tests/helpers/assert.ts";
import { parseSequenceFile } from "./sequence_file.ts";
import { nextPosition, startPosition } from "./sequence_cursor.ts";

const file = parseSequenceFile(`
<detox> = /x/detox
{report} = /x/report
[SEQUENCE s]
^ <detox> a
& <detox> b
| {report}
WAIT 60
[SEQUENCE again] restart
| {report}
TERMINATE
`);
const s = file.sequences[0]!;
const again = file.sequences[1]!;

Deno.test("a done step goes on; after the last step the sequence starts again at the first", () => {
  assertEquals(nextPosition(s, 0, "done"), { position: 1, retry: false });
  assertEquals(nextPosition(s, 3, "done"), { position: 0, retry: false });
});

Deno.test("a failed step: ^ restarts the sequence, & retries the step, | goes on", () => {
  assertEquals(nextPosition(s, 1, "failed"), { position: 1, retry: true });
  assertEquals(nextPosition(s, 0, "failed"), { position: 0, retry: false });
  assertEquals(nextPosition(s, 2, "failed"), { position: 3, retry: false });
});

Deno.test("a restart sequence starts at its first step; others where they stopped", () => {
  assertEquals(startPosition(again, 1), 0);
  assertEquals(startPosition(s, 2), 2);
  assertEquals(startPosition(s, null), 0);
  // A position saved before the file was shortened.
  assertEquals(startPosition(s, 9), 0);
  assertEquals(startPosition(s, -1), 0);
});
