import { assertEquals } from "../tests/helpers/assert.ts";
import { overQuota } from "./summary.ts";

Deno.test("over quota: each rise above 100 % is reported once, blamed on production when it wrote there that hour", () => {
  const samples = new Map([
    ["T2_ES_CIEMAT", [0.7, 0.738, 1.009, 1.009, 0.384]],
    ["T2_X", [0.5, 1.02, 1.05, 1.01, 0.9]],
  ]);
  const production = [{ site: "T2_ES_CIEMAT", hour: 2, dataset: "/Demo0039/Run2026N-v1/NANOAOD" }];
  assertEquals(overQuota(samples, production), [
    {
      site: "T2_ES_CIEMAT",
      hour: 2,
      occupancy: 1.009,
      cause: "production wrote /Demo0039/Run2026N-v1/NANOAOD",
    },
    { site: "T2_X", hour: 1, occupancy: 1.02, cause: "Dynamo" },
    { site: "T2_X", hour: 2, occupancy: 1.05, cause: "Dynamo" },
  ]);
});
