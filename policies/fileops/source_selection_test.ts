import { assertEquals } from "../../tests/helpers/assert.ts";
import { classifyFailure } from "./error_classes.ts";
import { retryDelaySeconds } from "./plan.ts";
import { chooseSource } from "./source_selection.ts";

const disk = (site: string) => ({ site, tape: false });
const tape = (site: string) => ({ site, tape: true });
const fail = (source: string, recoverable: boolean, order: number) => ({ source, recoverable, order });

Deno.test("source choice: disk before tape, untried first, then fewest failures among recoverable", () => {
  const zero = () => 0;
  assertEquals(chooseSource([], [], zero), { kind: "held", reason: "no_source" });
  assertEquals(chooseSource([tape("T1_TAPE"), disk("T2_A")], [], zero), {
    kind: "source",
    site: "T2_A",
    tape: false,
  });
  assertEquals(
    chooseSource([disk("T2_A"), disk("T2_B")], [fail("T2_A", true, 1)], zero),
    { kind: "source", site: "T2_B", tape: false },
  );
  assertEquals(
    chooseSource([disk("T2_A"), disk("T2_B")], [
      fail("T2_A", true, 1),
      fail("T2_B", true, 2),
      fail("T2_B", true, 3),
    ], zero),
    { kind: "source", site: "T2_A", tape: false },
  );
  // Disk sources whose last error is irrecoverable give way to tape.
  assertEquals(
    chooseSource([disk("T2_A"), tape("T1_TAPE")], [fail("T2_A", false, 1)], zero),
    { kind: "source", site: "T1_TAPE", tape: true },
  );
  // A source whose last failure was recoverable stays usable even after an irrecoverable one.
  assertEquals(
    chooseSource([disk("T2_A")], [fail("T2_A", false, 1), fail("T2_A", true, 2)], zero),
    { kind: "source", site: "T2_A", tape: false },
  );
  assertEquals(
    chooseSource([disk("T2_A"), tape("T1_TAPE")], [fail("T2_A", false, 1), fail("T1_TAPE", false, 2)], zero),
    { kind: "held", reason: "all_failed" },
  );
  assertEquals(chooseSource([disk("A"), disk("B"), disk("C")], [], () => 0.99).kind, "source");
  assertEquals(
    (chooseSource([disk("A"), disk("B"), disk("C")], [], () => 0.99) as { site: string }).site,
    "C",
  );
});

Deno.test("failure classes: storage codes and messages map to errno and recoverability", () => {
  assertEquals(classifyFailure("ENOENT", "x"), { exitCode: 2, name: "ENOENT", recoverable: false });
  assertEquals(classifyFailure("ECHECKSUM", "x"), { exitCode: 1001, name: "ECHECKSUM", recoverable: true });
  assertEquals(classifyFailure(null, "Connection timed out"), {
    exitCode: 110,
    name: "ETIMEDOUT",
    recoverable: true,
  });
  assertEquals(classifyFailure(null, "Permission denied").recoverable, false);
  assertEquals(classifyFailure(null, "proxy certificate expired").name, "EKEYEXPIRED");
  assertEquals(classifyFailure(null, "something odd"), { exitCode: 5, name: "EIO", recoverable: true });
  assertEquals(classifyFailure("NOTSUBMITTED", "backend down"), {
    exitCode: -1,
    name: "NOTSUBMITTED",
    recoverable: false,
  });
  assertEquals(classifyFailure("__proto__", "constructor"), { exitCode: 5, name: "EIO", recoverable: true });
  assertEquals([1, 2, 3, 10].map(retryDelaySeconds), [30, 60, 120, 3600]);
});
