import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { hostileBody, validDocument } from "../../tests/helpers/hostile_documents.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { canonicalInventory } from "./digest.ts";
import { InventoryValidationError } from "./errors.ts";
import { injectionToCommands } from "./injection.ts";

Deno.test("the fuzz base document is valid and applies", () => {
  const h = new ReducerHarness();
  const result = h.batch([{ commands: injectionToCommands(validDocument("0")), atomic: true }]);
  assert(result.outcomes[0]!.every((o) => o.status === "applied"));
});

Deno.test("fuzz: hostile injection documents are refused with a named field or applied whole, never a crash", () => {
  const h = new ReducerHarness();
  let refused = 0;
  let rejected = 0;
  let applied = 0;
  for (let seed = 1; seed <= 1500; seed++) {
    const body = hostileBody(seed, String(seed));
    let doc: unknown;
    try {
      doc = JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body));
    } catch {
      continue; // garbage text: the HTTP layer's 400 (tested there)
    }
    let commands;
    try {
      commands = injectionToCommands(doc);
    } catch (e) {
      if (!(e instanceof InventoryValidationError)) throw new Error(`seed ${seed}: ${String(e)}`);
      assert(e.reason.length > 0);
      refused += 1;
      continue;
    }
    const before = JSON.stringify(canonicalInventory(h.state));
    let result;
    try {
      result = h.batch([{ commands, atomic: true }]);
    } catch (e) {
      throw new Error(`seed ${seed}: the reducer threw ${String(e)} on ${JSON.stringify(doc).slice(0, 500)}`);
    }
    const outcomes = result.outcomes[0]!;
    if (outcomes.every((o) => o.status === "applied")) {
      applied += 1;
      // What was applied is exact: every size is a safe integer.
      for (const d of h.state.datasets.values()) assert(Number.isSafeInteger(d.size), `seed ${seed}`);
    } else {
      rejected += 1;
      assertEquals(
        JSON.stringify(canonicalInventory(h.state)),
        before,
        `seed ${seed}: a rejection changed nothing`,
      );
    }
  }
  // The mutations reach every outcome.
  assert(refused > 500, `refused ${refused}`);
  assert(applied > 20, `applied ${applied}`);
  assert(rejected > 5, `rejected ${rejected}`);
});
