import { describe, expect, test } from "vitest";
import { loadPack } from "../pack.js";
import type { EventFields } from "../fields.js";

/** Compiles `when COND` in a one-rule pack and returns its predicate. */
function cond(text: string, lists = ""): (f: EventFields) => boolean {
  const pack = loadPack([{ path: "t.vigil", text: `${lists}\nrule r { severity low when ${text} }` }]);
  const errors = pack.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((d) => d.message).join("; "));
  return (pack.rules[0] as { match: (f: EventFields) => boolean }).match;
}

describe("condition semantics", () => {
  test("nested and flat dotted fields resolve alike", () => {
    const p = cond('source.ip == "192.0.2.1"');
    expect(p({ source: { ip: "192.0.2.1" } })).toBe(true);
    expect(p({ "source.ip": "192.0.2.1" })).toBe(true);
    expect(p({ source: { ip: "192.0.2.2" } })).toBe(false);
  });

  test("a missing field makes every comparison false, == and != alike", () => {
    for (const c of ['a == "x"', 'a != "x"', "a > 1", "a < 1", 'a contains "x"', 'a in ["x"]', 'a not in ["x"]', 'a cidr "10.0.0.0/8"']) {
      expect(cond(c)({}), c).toBe(false);
      expect(cond(c)({ a: null }), c).toBe(false);
    }
    expect(cond('not a == "x"')({})).toBe(true);
    expect(cond("exists a")({})).toBe(false);
    expect(cond("exists a")({ a: 0 })).toBe(true);
    expect(cond("a == null")({ a: null })).toBe(true);
    expect(cond("a == null")({})).toBe(false);
  });

  test("an array matches when any element does; != when none does", () => {
    expect(cond('event.category == "authentication"')({ event: { category: ["iam", "authentication"] } })).toBe(true);
    expect(cond('event.category != "authentication"')({ event: { category: ["iam", "authentication"] } })).toBe(false);
    expect(cond('event.category != "network"')({ event: { category: ["iam", "authentication"] } })).toBe(true);
    expect(cond('tags contains "adm"')({ tags: ["x", "badmin"] })).toBe(true);
    expect(cond("n > 5")({ n: [1, 7] })).toBe(true);
  });

  test("numbers and numeric strings compare as numbers", () => {
    expect(cond("source.port == 22")({ "source.port": "22" })).toBe(true);
    expect(cond('source.port == "22"')({ "source.port": 22 })).toBe(true);
    expect(cond("bytes > 1000")({ bytes: "1500" })).toBe(true);
    expect(cond("bytes > 1000")({ bytes: "many" })).toBe(false);
    expect(cond("flag == 1")({ flag: true })).toBe(false);
  });

  test("case-sensitive by default, ~ for case-insensitive", () => {
    expect(cond('user.name == "Root"')({ "user.name": "root" })).toBe(false);
    expect(cond('user.name ==~ "Root"')({ "user.name": "root" })).toBe(true);
    expect(cond('msg contains "FAIL"')({ msg: "auth failed" })).toBe(false);
    expect(cond('msg contains~ "FAIL"')({ msg: "auth failed" })).toBe(true);
    expect(cond('msg startswith~ "AUTH"')({ msg: "auth failed" })).toBe(true);
    expect(cond('msg endswith "ed"')({ msg: "auth failed" })).toBe(true);
    expect(cond('u in~ ["ROOT", "admin"]')({ u: "root" })).toBe(true);
    expect(cond('u in ["ROOT", "admin"]')({ u: "root" })).toBe(false);
  });

  test("like globs", () => {
    const p = cond('user.name like "adm*"');
    expect(p({ "user.name": "administrator" })).toBe(true);
    expect(p({ "user.name": "root" })).toBe(false);
    expect(cond('f like "*.e?e"')({ f: "C:\\x\\evil.exe" })).toBe(true);
    expect(cond('f like "a*b*c"')({ f: "aXXbYYc" })).toBe(true);
    expect(cond('f like "a*b*c"')({ f: "aXXbYY" })).toBe(false);
    expect(cond('f like~ "A*"')({ f: "abc" })).toBe(true);
  });

  test("cidr and lists of addresses, IPv4 and IPv6", () => {
    expect(cond('source.ip cidr "10.0.0.0/8"')({ "source.ip": "10.1.2.3" })).toBe(true);
    expect(cond('source.ip cidr "10.0.0.0/8"')({ "source.ip": "11.1.2.3" })).toBe(false);
    expect(cond('source.ip cidr "2001:db8::/32"')({ "source.ip": "2001:db8:1::5" })).toBe(true);
    expect(cond('source.ip cidr "2001:db8::/32"')({ "source.ip": "2001:db9::5" })).toBe(false);
    expect(cond('source.ip cidr "10.0.0.0/8"')({ "source.ip": "not-an-ip" })).toBe(false);
    const lists = 'list office = ["203.0.113.0/24", "2001:db8:10::/48", "198.51.100.7", "gateway.example.com"]';
    const p = cond("source.address in office", lists);
    expect(p({ "source.address": "203.0.113.77" })).toBe(true);
    expect(p({ "source.address": "2001:db8:10:ffff::1" })).toBe(true);
    expect(p({ "source.address": "198.51.100.7" })).toBe(true);
    expect(p({ "source.address": "198.51.100.8" })).toBe(false);
    expect(p({ "source.address": "gateway.example.com" })).toBe(true);
    expect(cond("source.address not in office", lists)({ "source.address": "192.0.2.1" })).toBe(true);
  });

  test("functions and macros", () => {
    expect(cond('lower(user.name) == "root"')({ "user.name": "ROOT" })).toBe(true);
    expect(cond("len(user.name) > 3")({ "user.name": "ROOT" })).toBe(true);
    const p = cond("m and b == 2", "macro m = a == 1");
    expect(p({ a: 1, b: 2 })).toBe(true);
    expect(p({ a: 2, b: 2 })).toBe(false);
  });

  test("a bare boolean field is true only when true", () => {
    const p = cond("user.admin");
    expect(p({ user: { admin: true } })).toBe(true);
    expect(p({ user: { admin: "true" } })).toBe(false);
    expect(p({})).toBe(false);
  });

  test("except removes matches", () => {
    const pack = loadPack([{ path: "t.vigil", text: 'rule r { severity low when a == 1 except b == 2 except c == 3 }' }]);
    const m = pack.rules[0]?.match as (f: EventFields) => boolean;
    expect(m({ a: 1 })).toBe(true);
    expect(m({ a: 1, b: 2 })).toBe(false);
    expect(m({ a: 1, c: 3 })).toBe(false);
  });

  test("the dispatch index pins event.category through macros", () => {
    const pack = loadPack([
      {
        path: "t.vigil",
        text: `macro auth = event.category == "authentication" and x == 1
rule a { severity low when auth and y == 2 }
rule b { severity low when event.category in ["network", "web"] }
rule c { severity low when auth or z == 1 }`,
      },
    ]);
    expect(pack.rules.map((r) => r.dispatch)).toEqual([
      { field: "event.category", values: ["authentication"] },
      { field: "event.category", values: ["network", "web"] },
      undefined,
    ]);
    const byDataset = loadPack([{ path: "t.vigil", text: 'rule d { severity low when event.dataset == "heartbeat" and x == 1 }' }]);
    expect(byDataset.rules[0]?.dispatch).toEqual({ field: "event.dataset", values: ["heartbeat"] });
  });

  test("a sequence is pinned to what its when and steps, and its until, can match", () => {
    const pack = loadPack([
      {
        path: "t.vigil",
        text: `macro fail = event.category == "authentication" and event.outcome == "failure"
macro reset = event.category == "iam" and event.action == "password_reset"
rule steps_only { severity low sequence by u within 1m { a: fail  b: event.category in ["authentication", "session"] } }
rule with_until { severity low sequence by u within 1m { a: fail  b: fail } until reset }
rule when_and_steps { severity low when event.category in ["authentication", "web"] sequence by u within 1m { a: fail  b: event.category in ["authentication", "web", "dns"] } }
rule when_only { severity low when event.category == "web" sequence by u within 1m { a: x == 1  b: y == 2 } }
rule open_step { severity low sequence by u within 1m { a: fail  b: y == 2 } }
rule open_until { severity low sequence by u within 1m { a: fail  b: fail } until event.action == "password_reset" }`,
      },
    ]);
    expect(pack.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(Object.fromEntries(pack.rules.map((r) => [r.name, r.dispatch]))).toEqual({
      steps_only: { field: "event.category", values: ["authentication", "session"] },
      with_until: { field: "event.category", values: ["authentication", "iam"] },
      when_and_steps: { field: "event.category", values: ["authentication", "web"] },
      when_only: { field: "event.category", values: ["web"] },
      open_step: undefined,
      open_until: undefined,
    });
  });
});
