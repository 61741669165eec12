/**
 * The web monitor in a real browser (Playwright driving Debian's Chromium) on
 * a demo federation run for a day: one federation and one browser shared by
 * the steps. Without Chromium the test says so and is ignored, never green.
 */
import { assert, assertEquals, assertMatch } from "../../../tests/helpers/assert.ts";
import { runDemo } from "../../../demo/run_demo.ts";

const CHROMIUM = Deno.env.get("DYNAMO_CHROMIUM") ?? "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then((s) => s.isFile).catch(() => false);
if (!hasChromium) {
  console.error(
    `browser_test: ${CHROMIUM} is missing, so the web monitor's browser tests are IGNORED ` +
      "(apt-get install chromium; .ci/run installs it)",
  );
}
/** Where the screenshots of the README go (`DYNAMO_WEB_SCREENSHOTS=docs deno test …` writes them). */
const SCREENSHOTS = Deno.env.get("DYNAMO_WEB_SCREENSHOTS");

interface Row {
  [key: string]: string;
}

Deno.test({
  name: "the web monitor in Chromium on a one-day demo federation",
  ignore: !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const { chromium } = await import("playwright-core");
    const home = await Deno.makeTempDir({ prefix: "dynamo-web-" });
    const run = await runDemo({ home, days: 1, seed: 2, web: { refreshMs: 300 } });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, run.dynamo.app.fetch);
    const base = `http://127.0.0.1:${server.addr.port}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    const rest = async <T>(method: string, path: string, token?: string): Promise<T> => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      });
      const body = await res.json();
      assert(res.ok, `${method} ${path}: ${res.status} ${body.message}`);
      return body.data as T;
    };
    /** A browser page that records every console error, page error and failed request. */
    const open = async (context = browser) => {
      const page = await context.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("requestfailed", (r) => {
        // A page's poll cut short by the test going to the next page is no failure.
        if (r.resourceType() === "fetch" && r.failure()?.errorText === "net::ERR_ABORTED") return;
        problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`);
      });
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
      });
      return { page, problems };
    };
    // deno-lint-ignore no-explicit-any
    type Dom = any; // the page's DOM: this file is type-checked without the DOM's types
    const tableRows = (page: import("playwright-core").Page, selector: string) =>
      // Cells by column number, and the row's data-* attributes.
      page.$$eval(`${selector} tbody tr`, (trs) =>
        trs.map((tr: Dom) => {
          const row: Record<string, string> = {};
          [...tr.querySelectorAll("td")].forEach((
            td: Dom,
            i: number,
          ) => (row[String(i)] = td.textContent.trim()));
          for (const [k, v] of Object.entries(tr.dataset)) row[k] = String(v);
          return row;
        })) as Promise<Row[]>;

    try {
      const sites = await rest<{ name: string }[]>("GET", "/data/inventory/sites");
      // A copy request whose files wait: its destination is put in the waitroom before the transfers start.
      const snap = run.dynamo.port.snapshot();
      const dataset = snap.datasetsMatching("*").filter((d) => snap.replicasOf(d.id).length > 0)
        .sort((a, b) => a.size - b.size)[0]!;
      const holders = new Set(snap.replicasOf(dataset.id).map((r) => snap.siteById(r.siteId)!.name));
      const destination = snap.sites().find((s) =>
        s.storageType === "disk" && s.status === "ready" && s.name.startsWith("T2_") && !holders.has(s.name)
      )!.name;
      // The original's answer: a list of the one request.
      const [request] = await rest<{ request_id: number }[]>(
        "POST",
        `/data/request/copy?item=${encodeURIComponent(dataset.name)}&site=${destination}&n=0`,
        run.token,
      );
      await rest("POST", "/data/dealer/run", run.token);
      await rest("POST", `/data/inventory/setstatus?site=${destination}&status=waitroom`, run.token);
      await rest("POST", "/data/fileops/run", run.token);
      const held = await rest<{ id: number; site: string }[]>("GET", "/data/transfers/held/detail");
      assert(
        held.some((h) =>
          h.site === destination
        ),
        `files for ${destination} are held: ${JSON.stringify(held)}`,
      );
      const [waiting] = await rest<{ request_id: number; active: { item: string; site: string }[] }[]>(
        "GET",
        `/data/request/pollcopy?all=y&request_id=${request!.request_id}`,
      );
      assert(waiting && waiting.active.length > 0, `request ${request!.request_id} was acted on`);

      await t.step("every page loads with no console error and no failed request", async () => {
        const { page, problems } = await open();
        for (
          const path of [
            "/web/",
            "/web/detox/monitor",
            `/web/detox/monitor?site=${sites[0]!.name}`,
            "/web/detox/monitor?dataset=*",
            "/web/dealer/monitor",
            "/web/requests",
            "/web/requests?kind=deletion",
            `/web/requests/copy/${waiting.request_id}`,
            "/web/transfers/monitor",
            "/web/transfers/held",
            "/web/consistency",
            "/web/transfers/activity",
            "/web/transfers/activity?graph=number&entity=link&period=7d",
            "/web/deletions/activity?failures=y",
            "/web/detox/locks",
            "/web/scheduler",
          ]
        ) {
          const res = await page.goto(`${base}${path}`);
          assertEquals(res?.status(), 200, path);
          await page.waitForLoadState("load");
          assertEquals(problems, [], path);
        }
        await page.close();
      });

      await t.step("the overview's chart has one mark per site", async () => {
        const { page, problems } = await open();
        await page.goto(`${base}/web/`);
        await page.waitForFunction(() => (globalThis as unknown as { Chart?: unknown }).Chart !== undefined);
        const marks = await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const chart = (globalThis as any).Chart.getChart("overview-chart");
          return { physical: chart.getDatasetMeta(0).data.length, labels: chart.data.labels };
        });
        assertEquals(marks.physical, sites.length);
        assertEquals(marks.labels, sites.map((s) => s.name));
        assertEquals((await tableRows(page, "#sites")).length, sites.length);
        if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/web-overview.png`, fullPage: false });
        assertEquals(problems, []);
        await page.close();
      });

      await t.step(
        "clicking a site in the Detox monitor lists its replicas with the lines of `detox explain`",
        async () => {
          const { page, problems } = await open();
          await page.goto(`${base}/web/detox/monitor`);
          if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/web-detox.png`, fullPage: false });
          const site = "T2_CH_CERN";
          await Promise.all([
            page.waitForURL(/site=T2_CH_CERN/),
            page.click(`a.site-link:text-is("${site}")`),
          ]);
          const rows = await tableRows(page, "#replicas");
          assert(rows.length > 0, "the site has decisions");
          const cli = await new Deno.Command(Deno.execPath(), {
            args: [
              "run",
              "--allow-all",
              "main.ts",
              "detox",
              "explain",
              "/*",
              "--site",
              site,
              "--server",
              base,
            ],
            cwd: new URL("../../../", import.meta.url).pathname,
            env: { NO_COLOR: "1" },
            stdout: "piped",
            stderr: "piped",
          }).output();
          const explained = new TextDecoder().decode(cli.stdout);
          assertEquals(cli.code, 0, new TextDecoder().decode(cli.stderr));
          for (const r of rows) {
            // Columns: dataset, decision, size, blocks, line, policy line.
            const line = explained.split("\n").find((l) => l.startsWith(`  ${r["0"]} at ${site}: `));
            assert(line, `detox explain tells of ${r["0"]} at ${site}`);
            assert(line.includes(`: ${r["1"]!.toUpperCase()} `), `${line} vs ${r["1"]}`);
            assert(line.endsWith(`line ${r["4"]}: ${r["5"]}`), `${line} vs line ${r["4"]}: ${r["5"]}`);
          }
          assertEquals(problems, []);
          await page.close();
        },
      );

      await t.step("a request's page shows its files' states as the REST API does", async () => {
        const { page, problems } = await open();
        await page.goto(`${base}/web/requests/copy/${waiting.request_id}`);
        let checked = 0;
        for (const a of waiting.active) {
          const api = await rest<{ files: { lfn: string; status: string }[] }>(
            "GET",
            `/data/transfers/files?dataset=${
              encodeURIComponent(a.item.split("#")[0]!)
            }&site=${a.site}&kind=copy`,
          );
          const shown = await tableRows(page, `table.files[data-site="${a.site}"]`);
          assertEquals(
            shown.map((r) => [r.lfn, r.status]),
            api.files.map((f) => [f.lfn, f.status]),
            `${a.item} at ${a.site}`,
          );
          checked += shown.length;
        }
        assert(checked > 0, "the request has files");
        assertEquals(
          await page.textContent("#request-status"),
          (await rest<{ status: string }[]>(
            "GET",
            `/data/request/pollcopy?all=y&request_id=${waiting.request_id}`,
          ))[0]!.status,
        );
        assertEquals(problems, []);
        await page.close();
      });

      await t.step("a dataset name with <script> is shown as text", async () => {
        const hostile = "/<script>document.title='pwned'</script>/x/RAW";
        const { page, problems } = await open();
        await page.goto(`${base}/web/detox/monitor?dataset=${encodeURIComponent(hostile)}`);
        assertEquals(await page.title(), "Detox monitor · Dynamo");
        assertMatch(
          (await page.textContent("#search-results h2"))!,
          /<script>document\.title='pwned'<\/script>/,
        );
        assertEquals(await page.$$eval("main script:not([type])", (s) => s.length), 0);
        // A dataset by that name in the inventory, asked for: the requests page lists it as text.
        const inject = await fetch(`${base}/data/inventory/injectsync`, {
          method: "POST",
          headers: { Authorization: `Bearer ${run.token}`, "Content-Type": "application/json" },
          body: JSON.stringify({
            dataset: [{
              name: hostile,
              status: "valid",
              blocks: [{ name: "b1", files: [{ name: "/store/x/f", size: 1 }] }],
            }],
          }),
        });
        assertEquals(inject.status, 200, await inject.text());
        await rest(
          "POST",
          `/data/request/copy?item=${encodeURIComponent(hostile)}&site=${destination}`,
          run.token,
        );
        await page.goto(`${base}/web/requests?item=${encodeURIComponent(hostile)}`);
        assertEquals(await page.inputValue('input[name="item"]'), hostile);
        const listed = await tableRows(page, "#requests");
        assertEquals(listed.map((r) => r["3"]), [hostile]);
        assertEquals(await page.title(), "Requests · Dynamo");
        assertEquals(problems, []);
        await page.close();
      });

      await t.step(
        "the held-transfers page releases a held transfer after sign-in, and refuses without",
        async () => {
          const { page, problems } = await open();
          const target = held.find((h) => h.site === destination)!;
          await page.goto(`${base}/web/transfers/held`);
          await page.check(`input[name="id"][value="${target.id}"]`);
          const [refusal] = await Promise.all([page.waitForNavigation(), page.click("#release")]);
          assertEquals(refusal?.status(), 401);
          assertMatch((await page.textContent("main"))!, /Sign in with a token/);
          let still = await rest<{ id: number }[]>("GET", "/data/transfers/held/detail");
          assert(still.some((h) => h.id === target.id), "nothing was released without a sign-in");
          problems.length = 0; // the 401 above was the point

          await page.fill('header input[name="token"]', run.token);
          await Promise.all([page.waitForNavigation(), page.click('header button:text-is("Sign in")')]);
          assertEquals(new URL(page.url()).pathname, "/web/transfers/held");
          assertEquals(await page.textContent("#signed-in-user"), "demo");
          await page.check(`input[name="id"][value="${target.id}"]`);
          await Promise.all([page.waitForNavigation(), page.click("#release")]);
          assertMatch((await page.textContent("main .banner"))!, /Released 1 held file operation/);
          still = await rest<{ id: number }[]>("GET", "/data/transfers/held/detail");
          assert(!still.some((h) => h.id === target.id), "the transfer is no longer held");
          assertEquals(problems, []);
          await page.close();
        },
      );

      await t.step("the locks page makes a lock and removes it after sign-in", async () => {
        const { page, problems } = await open();
        await page.goto(`${base}/web/detox/locks`);
        await page.fill('header input[name="token"]', run.token);
        await Promise.all([page.waitForNavigation(), page.click('header button:text-is("Sign in")')]);
        assertEquals(new URL(page.url()).pathname, "/web/detox/locks");
        await page.fill('#lock-form input[name="item"]', dataset.name);
        await page.fill('#lock-form input[name="sites"]', destination);
        await page.fill('#lock-form input[name="expires"]', "2099-01-01");
        await page.fill('#lock-form input[name="comment"]', "kept by the browser test");
        await Promise.all([page.waitForNavigation(), page.click("#lock")]);
        assertMatch((await page.textContent("main .banner"))!, /Lock \d+ made/);
        const mine = (await rest<{ lockid: number; item: string; sites: string[]; comment: string }[]>(
          "GET",
          "/data/detox/lock/list",
        )).filter((l) => l.comment === "kept by the browser test");
        assertEquals(mine.map((l) => [l.item, l.sites]), [[dataset.name, [destination]]]);
        await page.selectOption('#unlock-form select[name="lockid"]', String(mine[0]!.lockid));
        await Promise.all([page.waitForNavigation(), page.click("#unlock")]);
        assertMatch((await page.textContent("main .banner"))!, /Released 1 lock/);
        const after = await rest<{ lockid: number }[]>("GET", "/data/detox/lock/list");
        assert(!after.some((l) => l.lockid === mine[0]!.lockid), "the lock is no longer in force");
        assertEquals(problems, []);
        await page.close();
      });

      await t.step("transfer activity: one series per destination, and failures by error class", async () => {
        const { page, problems } = await open();
        await page.goto(`${base}/web/transfers/activity?graph=number&period=7d`);
        await page.waitForFunction(() => (globalThis as unknown as { Chart?: unknown }).Chart !== undefined);
        const labels = await page.evaluate(() =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).Chart.getChart("activity-chart").data.datasets.map((d: { label: string }) =>
            d.label
          )
        );
        const series = await rest<{ name: string }[]>(
          "GET",
          "/data/transfers/history?graph=number&period=7d&no_mss=false&exit_code=0",
        );
        assertEquals(labels, series.map((s) => s.name));
        const failures = (await tableRows(page, "#failures")).map((r) => r["0"]);
        for (const c of ["EIO", "ECONNREFUSED"]) assert(failures.includes(c), `${c} in ${failures}`);
        assertEquals(problems, []);
        await page.close();
      });

      await t.step("a page updates itself when a new Detox cycle is recorded", async () => {
        const { page, problems } = await open();
        await page.goto(`${base}/web/detox/monitor`);
        const before = Number(await page.getAttribute("#cycle-info", "data-cycle"));
        const [cycle] = await rest<{ cycle: number }[]>("POST", "/data/detox/run", run.token);
        assert(cycle!.cycle > before);
        // No reload: the page's script sees the change and swaps its content.
        await page.waitForSelector(`#cycle-info[data-cycle="${cycle!.cycle}"]`, { timeout: 30_000 });
        assertEquals(problems, []);
        await page.close();
      });
    } finally {
      await browser.close();
      await server.shutdown();
      await run.close();
      await Deno.remove(home, { recursive: true });
    }
  },
});
