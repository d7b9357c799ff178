import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parseEventTime } from "./event.js";

describe("parseEventTime", () => {
  test("RFC 3339 with any offset, fractions, and epoch milliseconds", () => {
    expect(parseEventTime("2024-03-01T10:00:00Z")).toBe(Date.UTC(2024, 2, 1, 10));
    expect(parseEventTime("2024-03-01T10:00:00.250Z")).toBe(Date.UTC(2024, 2, 1, 10) + 250);
    expect(parseEventTime("2024-03-01T10:00:00.123456Z")).toBe(Date.UTC(2024, 2, 1, 10) + 123);
    expect(parseEventTime("2024-03-01T12:00:00+02:00")).toBe(Date.UTC(2024, 2, 1, 10));
    expect(parseEventTime("2024-03-01T05:30:00-0430")).toBe(Date.UTC(2024, 2, 1, 10));
    expect(parseEventTime("2024-03-01 10:00:00z")).toBe(Date.UTC(2024, 2, 1, 10));
    expect(parseEventTime(1_700_000_000_123)).toBe(1_700_000_000_123);
    expect(parseEventTime("0001-01-01T00:30:00Z")).toBe(Date.parse("0001-01-01T00:30:00Z"));
    expect(parseEventTime("0099-12-31T23:59:59.000Z")).toBe(Date.parse("0099-12-31T23:59:59.000Z"));
  });

  test("refuses what is not a time", () => {
    for (const v of ["2024-02-30T00:00:00Z", "2024-13-01T00:00:00Z", "2024-03-01T24:00:00Z", "2024-03-01", "yesterday", "", null, undefined, {}, NaN, Infinity]) {
      expect(parseEventTime(v), JSON.stringify(v) ?? "undefined").toBeUndefined();
    }
  });

  test("agrees with Date.parse on ISO strings (fast path and cache included)", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        expect(parseEventTime(iso)).toBe(d.getTime());
        expect(parseEventTime(iso)).toBe(d.getTime());
        expect(parseEventTime(iso.replace(".000Z", "Z").replace("Z", "+00:00"))).toBe(d.getTime());
      }),
    );
  });
});
