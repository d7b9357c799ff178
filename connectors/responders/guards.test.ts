/** Guards, argument helpers and the circuit breaker, against simple reference models. */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { canonicalIp, describeAction, durationMs } from "./args.js";
import { Allowlist, RateCap, mostCautious } from "./guards.js";
import { CircuitBreaker, backoffMs } from "./resilience.js";

describe("rate cap", () => {
  test.prop([
    fc.array(fc.tuple(fc.constantFrom("block_ip", "lock_account"), fc.integer({ min: 0, max: 30_000 })), {
      maxLength: 200,
    }),
    fc.integer({ min: 0, max: 5 }),
  ])("admits exactly what a sliding 60 s window of `limit` per kind admits", (steps, limit) => {
    const cap = new RateCap({ block_ip: limit }, 3);
    const admitted = new Map<string, number[]>();
    let now = 0;
    for (const [kind, dt] of steps) {
      now += dt;
      const l = kind === "block_ip" ? limit : 3;
      const recent = (admitted.get(kind) ?? []).filter((t) => t > now - 60_000);
      const expected = recent.length < l;
      expect(cap.take(kind, now)).toBe(expected);
      if (expected) recent.push(now);
      admitted.set(kind, recent);
    }
  });
});

describe("circuit breaker", () => {
  test.prop([fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2_000 })), { maxLength: 100 })])(
    "follows the closed/open/half-open model",
    (steps) => {
      const policy = { failures: 3, cooldownMs: 1_000 };
      const b = new CircuitBreaker(policy);
      let consecutive = 0;
      let openedAt: number | undefined;
      let trial = false;
      let now = 0;
      for (const [ok, dt] of steps) {
        now += dt;
        let allowed: boolean;
        if (openedAt === undefined) allowed = true;
        else if (trial) allowed = false;
        else if (now - openedAt >= policy.cooldownMs) allowed = trial = true;
        else allowed = false;
        expect(b.allow(now)).toBe(allowed);
        if (!allowed) continue;
        if (ok) {
          b.success();
          consecutive = 0;
          openedAt = undefined;
          trial = false;
        } else {
          b.failure(now);
          consecutive++;
          if (trial || consecutive >= policy.failures) {
            openedAt = now;
            trial = false;
          }
        }
      }
    },
  );

  test.prop([fc.integer({ min: 1, max: 20 })])(
    "backoff doubles up to the cap, with at most 20 % jitter",
    (n) => {
      const p = { attempts: 5, baseMs: 100, maxMs: 5_000, timeoutMs: 1 };
      const raw = Math.min(5_000, 100 * 2 ** (n - 1));
      expect(backoffMs(p, n, () => 0)).toBe(raw);
      expect(backoffMs(p, n, () => 1)).toBe(Math.round(raw * 1.2));
    },
  );
});

describe("allowlist and modes", () => {
  test("CIDRs of both families, loopback always, accounts and hosts case-insensitively", () => {
    const r = Allowlist.create({
      addresses: ["10.0.0.0/8", "2001:db8::/32"],
      infrastructure: ["192.0.2.10"],
      accounts: ["Root"],
      hosts: ["bastion"],
    });
    if (!r.ok) throw new Error(r.error.message);
    const al = r.value;
    expect(al.refuses("block_ip", { ip: "10.200.1.1" })).toMatch(/allowlisted/);
    expect(al.refuses("block_ip", { ip: "2001:db8:1::5" })).toMatch(/allowlisted/);
    expect(al.refuses("block_ip", { ip: "192.0.2.10" })).toMatch(/allowlisted/);
    expect(al.refuses("block_ip", { ip: "192.0.2.11" })).toBeUndefined();
    expect(al.refuses("block_ip", { ip: "127.0.0.53" })).toMatch(/allowlisted/);
    expect(al.refuses("block_ip", { ip: "::1" })).toMatch(/allowlisted/);
    expect(al.refuses("lock_account", { account: "root" })).toMatch(/allowlisted: account root/);
    expect(al.refuses("require_mfa", { account: "alice" })).toBeUndefined();
    expect(al.refuses("isolate_host", { host: "BASTION" })).toMatch(/allowlisted: host/);
    expect(al.refuses("notify", { channel: "soc" })).toBeUndefined();
  });

  test("a bad entry is a configuration error naming it", () => {
    expect(Allowlist.create({ addresses: ["10.0.0.0/33"] })).toEqual({
      ok: false,
      error: {
        code: "E_CONFIG",
        message: 'allowlist entry "10.0.0.0/33" is not an address or CIDR (e.g. 10.0.0.0/8)',
      },
    });
  });

  test("the most cautious mode wins: dry_run over approve over enforce", () => {
    expect(mostCautious("enforce", undefined, "approve")).toBe("approve");
    expect(mostCautious("approve", "dry_run", "enforce")).toBe("dry_run");
    expect(mostCautious()).toBe("enforce");
  });
});

describe("arguments", () => {
  test.prop([fc.ipV4()])("an IPv4 address is printed back as itself", (ip) => {
    expect(canonicalIp(ip)).toBe(ip);
  });

  test.prop([fc.ipV6()])("an IPv6 address re-parses to the same canonical text", (ip) => {
    const c = canonicalIp(ip);
    expect(c).toBeDefined();
    expect(canonicalIp(c)).toBe(c);
    expect(c).toMatch(/^[0-9a-f:.]+$/);
  });

  test("canonical IPv6 compresses the longest zero run; anything else is not an address", () => {
    expect(canonicalIp("2001:0db8:0000:0000:0000:0000:0000:0001")).toBe("2001:db8::1");
    expect(canonicalIp("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(canonicalIp("203.0.113.7/24")).toBeUndefined();
    expect(canonicalIp("host.example")).toBeUndefined();
  });

  test("durations default from the catalogue: block 1 h, lock 300 s, require_mfa until cleared", () => {
    expect(durationMs("block_ip", { ip: "x" })).toBe(3_600_000);
    expect(durationMs("lock_account", { account: "a" })).toBe(300_000);
    expect(durationMs("require_mfa", { account: "a" })).toBeUndefined();
    expect(durationMs("block_ip", { ip: "x", for: 60_000 })).toBe(60_000);
    expect(describeAction({ action: "require_mfa", args: { account: "a" } })).toBe(
      "require_mfa a until cleared",
    );
  });
});
