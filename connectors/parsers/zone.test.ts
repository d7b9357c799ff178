import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { createZoneConverter, daysFromCivil, daysInMonth } from "./zone.js";

/** Wall time "as if UTC" from an ISO-like string without zone. */
const wall = (s: string): number => Date.parse(`${s}Z`);
const iso = (ms: number): string => new Date(ms).toISOString();

describe("daysFromCivil / daysInMonth", () => {
  test.prop([fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })])(
    "agrees with Date for any date",
    (y, m, d) => {
      const ref = new Date(0);
      ref.setUTCFullYear(y, m - 1, d);
      expect(daysFromCivil(y, m, d)).toBe(Math.floor(ref.getTime() / 86_400_000));
    },
  );

  it("knows leap years", () => {
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(2023, 2)).toBe(28);
    expect(daysInMonth(1900, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
    expect(daysInMonth(2024, 4)).toBe(30);
    expect(daysInMonth(2024, 12)).toBe(31);
  });
});

describe("createZoneConverter", () => {
  it("is the identity for UTC", () => {
    const z = createZoneConverter("UTC");
    expect(z.toUtc(wall("2024-03-10T02:30:00"))).toBe(wall("2024-03-10T02:30:00"));
    expect(z.offsetAt(0)).toBe(0);
  });

  it("throws a RangeError naming an unknown zone", () => {
    expect(() => createZoneConverter("Mars/Olympus_Mons")).toThrow(/unknown time zone "Mars\/Olympus_Mons"/);
  });

  it("converts America/New_York around the spring-forward gap (2024-03-10 02:00 → 03:00)", () => {
    const z = createZoneConverter("America/New_York");
    expect(iso(z.toUtc(wall("2024-03-10T01:59:59")))).toBe("2024-03-10T06:59:59.000Z"); // EST
    // 02:30 does not exist: it moves forward by the gap (compatible), 02:30 EST = 03:30 EDT.
    expect(iso(z.toUtc(wall("2024-03-10T02:30:00")))).toBe("2024-03-10T07:30:00.000Z");
    expect(iso(z.toUtc(wall("2024-03-10T03:00:00")))).toBe("2024-03-10T07:00:00.000Z"); // EDT
    expect(iso(z.toUtc(wall("2024-03-10T12:00:00")))).toBe("2024-03-10T16:00:00.000Z");
    expect(iso(z.toUtc(wall("2024-03-09T12:00:00")))).toBe("2024-03-09T17:00:00.000Z");
  });

  it("converts America/New_York around the fall-back overlap (2024-11-03 02:00 → 01:00)", () => {
    const z = createZoneConverter("America/New_York");
    expect(iso(z.toUtc(wall("2024-11-03T00:59:59")))).toBe("2024-11-03T04:59:59.000Z"); // EDT
    // 01:30 happens twice: the earlier instant (EDT) is taken.
    expect(iso(z.toUtc(wall("2024-11-03T01:30:00")))).toBe("2024-11-03T05:30:00.000Z");
    expect(iso(z.toUtc(wall("2024-11-03T02:00:00")))).toBe("2024-11-03T07:00:00.000Z"); // EST
    expect(iso(z.toUtc(wall("2024-11-04T09:00:00")))).toBe("2024-11-04T14:00:00.000Z");
  });

  it("handles half-hour offsets and half-hour DST (Asia/Kolkata, Australia/Lord_Howe)", () => {
    expect(iso(createZoneConverter("Asia/Kolkata").toUtc(wall("2024-06-01T10:00:00")))).toBe("2024-06-01T04:30:00.000Z");
    const lh = createZoneConverter("Australia/Lord_Howe");
    // Lord Howe: +10:30 standard, +11:00 summer; 2024-10-06 02:00 → 02:30.
    expect(iso(lh.toUtc(wall("2024-10-06T01:59:00")))).toBe("2024-10-05T15:29:00.000Z");
    expect(iso(lh.toUtc(wall("2024-10-06T02:30:00")))).toBe("2024-10-05T15:30:00.000Z");
    expect(iso(lh.toUtc(wall("2024-10-06T02:15:00")))).toBe("2024-10-05T15:45:00.000Z"); // in the gap, moved forward
  });

  it("matches Europe/Berlin across both 2024 transitions", () => {
    const z = createZoneConverter("Europe/Berlin");
    expect(iso(z.toUtc(wall("2024-03-31T01:59:59")))).toBe("2024-03-31T00:59:59.000Z");
    expect(iso(z.toUtc(wall("2024-03-31T03:00:00")))).toBe("2024-03-31T01:00:00.000Z");
    expect(iso(z.toUtc(wall("2024-10-27T02:30:00")))).toBe("2024-10-27T00:30:00.000Z");
    expect(iso(z.toUtc(wall("2024-10-27T03:00:00")))).toBe("2024-10-27T02:00:00.000Z");
  });

  const zones = ["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo", "Pacific/Chatham"];
  const converters = new Map(zones.map((z) => [z, createZoneConverter(z)]));

  test.prop([fc.constantFrom(...zones), fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2040, 0, 1) })])(
    "the wall time of any instant converts back to an instant with that wall time",
    (zone, t) => {
      const z = converters.get(zone);
      if (z === undefined) throw new Error(zone);
      const sec = Math.floor(t / 1000) * 1000;
      const w = sec + z.offsetAt(sec);
      const u = z.toUtc(w);
      expect(u + z.offsetAt(u)).toBe(w);
      // Unique wall times give the instant back; repeated ones the earlier of the two.
      expect(u).toBeLessThanOrEqual(sec);
      expect(sec - u).toBeLessThanOrEqual(2 * 3_600_000);
    },
  );
});
