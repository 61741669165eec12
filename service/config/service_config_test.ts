import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { PolicySyntaxError } from "../../policies/language/errors.ts";
import { parseServiceConfig, siteCommands } from "./service_config.ts";

Deno.test("service config: every section becomes the settings the environment would give, paths beside the file", () => {
  const config = parseServiceConfig(
    JSON.stringify({
      listen: "0.0.0.0:8080",
      database: { home: "state" },
      max_body_bytes: 1048576,
      request_deadline_s: 30,
      cycle_budget_s: 600,
      partitions: "partitions.txt",
      policies_dir: "/etc/dynamo/policies",
      detox: {
        policies: ["detox/Physics.txt", "/abs/RelVal.txt", {
          file: "campaigns/c1.txt",
          partition: "IB RelVal",
        }],
        interval_s: 3600,
        deletion_per_iteration: 0.02,
        protected_sites: ["T1_US_FNAL_Disk"],
        enforcer_rules: "enforcer.json",
        room_for_requests: 0.2,
        room_interval_s: 1800,
      },
      dealer: { config: "dealer.json", interval_s: 1800 },
      requests: { interval_s: 120 },
      fileops: { interval_s: 5, link_parallelism: 2, site_parallelism: 4 },
      scheduler: { sequences: "dynamo.seq", tick_s: 5 },
      sites: [
        { name: "T1_TAPE", backend: "file:///srv/tape", storage_type: "mss", quotas_tb: { Tape: 5000 } },
        { name: "T2_A", backend: "root://xrd:1094//store", status: "waitroom" },
      ],
    }),
    "/etc/dynamo/dynamo.json",
  );
  assertEquals(config.env, {
    DYNAMO_LISTEN: "0.0.0.0:8080",
    DYNAMO_HOME: "/etc/dynamo/state",
    DYNAMO_MAX_BODY_BYTES: "1048576",
    DYNAMO_REQUEST_DEADLINE: "30",
    DYNAMO_CYCLE_BUDGET: "600",
    DYNAMO_PARTITIONS: "/etc/dynamo/partitions.txt",
    DYNAMO_POLICIES: "/etc/dynamo/policies",
    DYNAMO_DETOX_POLICIES:
      "/etc/dynamo/detox/Physics.txt,/abs/RelVal.txt,/etc/dynamo/campaigns/c1.txt@IB RelVal",
    DYNAMO_DETOX_INTERVAL: "3600",
    DYNAMO_DETOX_DELETION_PER_ITERATION: "0.02",
    DYNAMO_PROTECTED_SITES: "T1_US_FNAL_Disk",
    DYNAMO_ENFORCER_RULES: "/etc/dynamo/enforcer.json",
    DYNAMO_DETOX_ROOM_FOR_REQUESTS: "0.2",
    DYNAMO_DETOX_ROOM_INTERVAL: "1800",
    DYNAMO_DEALER_CONFIG: "/etc/dynamo/dealer.json",
    DYNAMO_DEALER_INTERVAL: "1800",
    DYNAMO_REQUEST_INTERVAL: "120",
    DYNAMO_FILEOPS_INTERVAL: "5",
    DYNAMO_LINK_PARALLELISM: "2",
    DYNAMO_SITE_PARALLELISM: "4",
    DYNAMO_SEQUENCES: "/etc/dynamo/dynamo.seq",
    DYNAMO_SCHEDULER_TICK: "5",
  });
  assertEquals(siteCommands(config.sites), [
    { op: "site.upsert", name: "T1_TAPE", storage_type: "mss", status: "ready", backend: "file:///srv/tape" },
    { op: "quota.set", site: "T1_TAPE", partition: "Tape", quota: 5000e12 },
    {
      op: "site.upsert",
      name: "T2_A",
      storage_type: "disk",
      status: "waitroom",
      backend: "root://xrd:1094//store",
    },
  ]);
  assertEquals(parseServiceConfig("{}", "empty.json").env, {}, "everything is optional");
});

Deno.test("service config: garbage and hostile values are errors naming the key", () => {
  const cases: [string, RegExp][] = [
    ["not json", /malformed JSON/],
    ["[]", /\(top\): expected an object/],
    [`{"colour": "red"}`, /colour: unknown key/],
    [`{"listen": 8080}`, /listen: expected a non-empty string/],
    [`{"listen": "everywhere"}`, /listen: expected HOST:PORT/],
    [`{"database": {}}`, /database: give exactly one of "url" or "home"/],
    [`{"database": {"url": "postgres://x", "home": "y"}}`, /database: give exactly one/],
    [`{"database": {"url": "mysql://x"}}`, /database.url: expected postgres/],
    [`{"max_body_bytes": -1}`, /max_body_bytes: expected a number from 1/],
    [`{"request_deadline_s": 0}`, /request_deadline_s: expected a number from 0.1 to 86400/],
    [`{"cycle_budget_s": "long"}`, /cycle_budget_s: expected a number/],
    [`{"detox": {"policies": "Physics.txt"}}`, /detox.policies: expected a list/],
    [`{"detox": {"policies": [3]}}`, /detox.policies\[0\]: expected a file name or/],
    [`{"detox": {"policies": [""]}}`, /detox.policies\[0\]: expected a file name or/],
    [`{"detox": {"policies": [{"partition": "P"}]}}`, /detox.policies\[0\].file: expected a non-empty/],
    [`{"detox": {"policies": [{"file": "c.txt", "partition": ""}]}}`, /partition: not a partition name/],
    [`{"detox": {"policies": [{"file": "c.txt", "partition": "../x"}]}}`, /partition: not a partition name/],
    [`{"detox": {"policies": [{"file": "c.txt", "partition": 7}]}}`, /partition: expected a partition name/],
    [`{"detox": {"policies": [{"file": "c.txt", "owner": "me"}]}}`, /detox.policies\[0\].owner: unknown key/],
    [`{"detox": {"interval_s": 1e99}}`, /detox.interval_s: expected a number from 0 to/],
    [`{"detox": {"deletion_per_iteration": 0}}`, /detox.deletion_per_iteration: expected a number/],
    [`{"detox": {"room_for_requests": 1.5}}`, /detox.room_for_requests: expected a number from 0 to 1/],
    [`{"detox": {"room_for_requests": "all"}}`, /detox.room_for_requests: expected a number/],
    [`{"detox": {"room_interval_s": 1}}`, /detox.room_interval_s: expected a number from 60/],
    [`{"detox": {"room_interval_s": -3600}}`, /detox.room_interval_s: expected a number from 60/],
    [`{"dealer": {}}`, /dealer.config: expected a non-empty string/],
    [`{"fileops": {"link_parallelism": 0}}`, /fileops.link_parallelism: expected a number from 1/],
    [`{"fileops": {"interval_s": "soon"}}`, /fileops.interval_s: expected a number/],
    [`{"scheduler": {}}`, /scheduler.sequences: expected a non-empty string/],
    [`{"scheduler": {"sequences": "a.seq", "tick_s": 0}}`, /scheduler.tick_s: expected a number from 1/],
    [`{"scheduler": {"sequences": "a.seq", "cron": "*"}}`, /scheduler.cron: unknown key/],
    [`{"sites": {}}`, /sites: expected a list/],
    [`{"sites": ["T2_A"]}`, /sites\[0\]: expected an object/],
    [`{"sites": [{"name": "../../etc", "backend": "file:///x"}]}`, /sites\[0\].name: not a site name/],
    [`{"sites": [{"name": "T2_A"}]}`, /sites\[0\].backend: expected a non-empty string/],
    [
      `{"sites": [{"name": "T2_A", "backend": "b", "storage_type": "cloud"}]}`,
      /storage_type: expected "disk" or "mss"/,
    ],
    [`{"sites": [{"name": "T2_A", "backend": "b", "status": "gone"}]}`, /status: expected "ready"/],
    [
      `{"sites": [{"name": "T2_A", "backend": "b", "quotas_tb": {"P": -5}}]}`,
      /quotas_tb.P: expected a number/,
    ],
    [
      `{"sites": [{"name": "T2_A", "backend": "b"}, {"name": "T2_A", "backend": "c"}]}`,
      /sites\[1\].name: site T2_A is listed twice/,
    ],
  ];
  for (const [text, pattern] of cases) {
    const error = assertThrows(() => parseServiceConfig(text, "dynamo.json"), PolicySyntaxError);
    assert(pattern.test(error.message), `${text}: ${error.message}`);
    assert(error.message.startsWith("dynamo.json:"), error.message);
  }
});

Deno.test("service config: a config file named relatively still gives absolute paths", () => {
  const config = parseServiceConfig(
    JSON.stringify({
      database: { home: "state" },
      partitions: "../p.txt",
      scheduler: { sequences: "./a.seq" },
    }),
    "conf/dynamo.json",
  );
  const here = Deno.cwd();
  assertEquals(config.env.DYNAMO_HOME, `${here}/conf/state`);
  assertEquals(config.env.DYNAMO_PARTITIONS, `${here}/p.txt`);
  assertEquals(config.env.DYNAMO_SEQUENCES, `${here}/conf/a.seq`);
});
