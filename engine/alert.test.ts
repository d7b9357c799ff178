import { createHash } from "node:crypto";
import fc from "fast-check";
import { expect, test } from "vitest";
import { alertId } from "./alert.js";

test("alert ids do not change across versions (replays and redeliveries find the same incident)", () => {
  expect(alertId("ssh_bruteforce", "203.0.113.7", "evt-1")).toBe("5070fd34b87ba1ea8d64439abf28b7d1");
});

test("property: an alert id is SHA-256 over rule, key and first event id, NUL-separated", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (rule, key, ev) => {
      const naive = createHash("sha256").update(rule).update("\0").update(key).update("\0").update(ev).digest("hex").slice(0, 32);
      expect(alertId(rule, key, ev)).toBe(naive);
    }),
  );
});
