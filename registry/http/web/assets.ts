/**
 * Static files of the monitor, served by the registry itself (the machines that
 * run Dynamo may have no internet): Chart.js from its npm package (the version
 * pinned in deno.json) and the monitor's own script and style sheet. Names carry
 * a version so that browsers may cache them for good.
 */
import { createRequire } from "node:module";
// A real import keeps the package in the module graph, so that Deno installs it.
import { Chart } from "chart.js";

const VERSION = Chart.version;

export const ASSETS = {
  chart: `/web/assets/chart-${VERSION}.umd.min.js`,
  js: `/web/assets/web-${VERSION}-1.js`,
  css: `/web/assets/web-${VERSION}-1.css`,
} as const;

export interface Asset {
  type: string;
  body: Uint8Array;
}

let loaded: Map<string, Asset> | null = null;

/** The asset served at `path`, or null. */
export async function asset(path: string): Promise<Asset | null> {
  if (!loaded) {
    // The UMD build is not in the package's exports map: find the package's folder through its main entry.
    const main = createRequire(import.meta.url).resolve("chart.js");
    const dist = main.slice(0, main.lastIndexOf("/") + 1);
    loaded = new Map([
      [ASSETS.chart, {
        type: "text/javascript; charset=utf-8",
        body: await Deno.readFile(`${dist}chart.umd.min.js`),
      }],
      [ASSETS.js, {
        type: "text/javascript; charset=utf-8",
        body: await Deno.readFile(new URL("./assets/web.js", import.meta.url)),
      }],
      [ASSETS.css, {
        type: "text/css; charset=utf-8",
        body: await Deno.readFile(new URL("./assets/web.css", import.meta.url)),
      }],
    ]);
  }
  return loaded.get(path) ?? null;
}
