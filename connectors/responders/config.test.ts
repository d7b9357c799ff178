/** The `response:` configuration, and the factory that builds what it enables. */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { redisUrl, uniqueName } from "../../test/support/services.js";
import { openStore } from "../store/open.js";
import type { IncidentStore } from "../store/types.js";
import { DEFAULT_RESPONSE_CONFIG, parseResponseConfig } from "./config.js";
import { createResponse } from "./index.js";

describe("parseResponseConfig", () => {
  test("no section: the defaults; REDIS_URL from the environment; VIGIL_BREAK_GLASS=1 turns break-glass on", () => {
    expect(parseResponseConfig(undefined)).toEqual({ ok: true, value: DEFAULT_RESPONSE_CONFIG });
    const r = parseResponseConfig(undefined, { REDIS_URL: "redis://r:6379", VIGIL_BREAK_GLASS: "1" });
    expect(r.ok && r.value.redis).toEqual({ enabled: true, url: "redis://r:6379", prefix: "security:" });
    expect(r.ok && r.value.break_glass).toBe(true);
  });

  test("the commands' NATS prefix follows the job's nats.prefix unless the section sets one", () => {
    const r = parseResponseConfig(undefined, { VIGIL_NATS_PREFIX: "tenant_a" });
    expect(r.ok && r.value.nats.prefix).toBe("tenant_a");
    const own = parseResponseConfig({ nats: { prefix: "cmds" } }, { VIGIL_NATS_PREFIX: "tenant_a" });
    expect(own.ok && own.value.nats.prefix).toBe("cmds");
    const none = parseResponseConfig(undefined, {});
    expect(none.ok && none.value.nats.prefix).toBe("security");
  });

  test("a full YAML section", () => {
    const yaml = `
mode: enforce
modes:
  rules: { ssh_bruteforce: enforce, admin_login_from_tor: approve }
  actions: { isolate_host: approve }
allowlist:
  addresses: [10.0.0.0/8, 192.0.2.10]
  infrastructure: [172.16.0.0/12]
  accounts: [svc-backup]
rate_per_minute: { default: 30, block_ip: 120 }
retry: { attempts: 4, base_ms: 100 }
redis: { prefix: "vigil:" }
nats: { prefix: security }
nftables: { enabled: true, table: vigil }
idp: { url: "https://idp.example/hooks/vigil", token: abc }
channels:
  soc: { url: "https://hooks.slack.com/services/T/B/X", format: slack }
  pager: { url: "https://pager.example/v1/events" }
escalation:
  - { min_severity: critical, channels: [pager] }
siem:
  - { kind: elasticsearch, url: "http://es:9200", index: vigil-alerts }
  - { kind: splunk, url: "https://splunk:8088", token: hec }
`;
    const r = parseResponseConfig(parse(yaml), {});
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.value.modes.rules).toEqual({ ssh_bruteforce: "enforce", admin_login_from_tor: "approve" });
    expect(r.value.rate_per_minute).toEqual({ default: 30, block_ip: 120 });
    expect(r.value.retry).toEqual({ attempts: 4, base_ms: 100, max_ms: 5_000, timeout_ms: 5_000 });
    expect(r.value.channels.soc).toEqual({ url: "https://hooks.slack.com/services/T/B/X", format: "slack" });
    expect(r.value.escalation).toEqual([{ min_severity: "critical", channels: ["pager"] }]);
    expect(r.value.siem.map((s) => s.kind)).toEqual(["elasticsearch", "splunk"]);
    expect(r.value.redis.prefix).toBe("vigil:");
  });

  test("every mistake is reported with its path", () => {
    const r = parseResponseConfig({
      mode: "yolo",
      allowlist: { addresses: "10.0.0.0/8" },
      retry: { attempts: 0 },
      siem: [{ kind: "graylog", url: "x" }],
      escalation: [{ min_severity: "urgent", channels: ["nowhere"] }],
      colour: 1,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path)).toEqual([
      "response.colour",
      "response.escalation[0].min_severity",
      "response.escalation[0].channels",
      "response.siem[0].kind",
      "response.mode",
      "response.allowlist.addresses",
      "response.retry.attempts",
    ]);
    expect(r.errors.every((e) => e.code === "E_CONFIG" && e.message.length > 0)).toBe(true);
  });
});

describe("createResponse", () => {
  let store: IncidentStore;
  const prefix = `${uniqueName("vigil_cfg")}:`;
  beforeAll(async () => {
    store = await openStore({ databaseUrl: "memory://" });
  });
  afterAll(async () => {
    await store.close();
    const r = new Redis(redisUrl());
    const keys = await r.keys(`${prefix}*`);
    if (keys.length > 0) await r.del(...keys);
    await r.quit();
  });

  test("with REDIS_URL set, the Redis responder is on by default and a block lands in Redis", async () => {
    const cfg = parseResponseConfig({ redis: { prefix } }, { REDIS_URL: redisUrl() });
    if (!cfg.ok) throw new Error("config");
    const rt = await createResponse(cfg.value, { store });
    if (!rt.ok) throw new Error(rt.error.message);
    expect(rt.value.responders.map((r) => r.kind)).toEqual(["redis"]);
    const before = Date.now();
    await rt.value.dispatcher.dispatch([
      {
        id: uniqueName("alert"),
        rule: "ssh_bruteforce",
        rule_version: "v1",
        title: "t",
        severity: "high",
        risk: undefined,
        tags: [],
        keys: {},
        count: 5,
        value: undefined,
        first_event_at: "2020-01-01T00:00:00Z",
        last_event_at: "2020-01-01T00:00:00Z",
        fired_at: "2020-01-01T00:00:00Z",
        detected_at: "2020-01-01T00:00:00Z",
        evidence: { event_ids: [], origins: [], truncated: 0 },
        suppressed: 0,
        actions: [{ action: "block_ip", mode: "enforce", args: { ip: "203.0.113.77", for: 3_600_000 } }],
      },
    ]);
    await rt.value.close();
    const r = new Redis(redisUrl());
    const score = Number(await r.zscore(`${prefix}blocked-ips`, "203.0.113.77"));
    await r.quit();
    expect(score).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(score).toBeLessThanOrEqual(Date.now() + 3_600_000);
  });

  test("no REDIS_URL and no NATS: no responder; an allowlist error is a value", async () => {
    const cfg = parseResponseConfig({}, {});
    if (!cfg.ok) throw new Error("config");
    const rt = await createResponse(cfg.value, { store });
    expect(rt.ok && rt.value.responders).toEqual([]);
    if (rt.ok) await rt.value.close();
    // The configuration reports each bad allowlist entry; createResponse still refuses one.
    expect(parseResponseConfig({ allowlist: { addresses: ["10.0.0.0/8", "not-a-cidr"] } }, {})).toEqual({
      ok: false,
      errors: [{ code: "E_CONFIG", path: "response.allowlist.addresses[1]", message: '"not-a-cidr" is not an address or CIDR (e.g. 10.0.0.0/8)' }],
    });
    const good = parseResponseConfig({}, {});
    if (!good.ok) throw new Error("config");
    expect(await createResponse({ ...good.value, allowlist: { addresses: ["not-a-cidr"] } }, { store })).toMatchObject({
      ok: false,
      error: { code: "E_CONFIG" },
    });
  });
});
