import fc from "fast-check";
import { expect, test } from "vitest";
import { type CompiledFirstSeen, loadPack } from "../../dsl/index.js";
import type { EngineEvent } from "../event.js";
import { EventDecoder, EventEncoder } from "../snapshot-codec.js";
import { KeyIndex } from "../state/key-index.js";
import { FirstSeenCorrelator } from "./first-seen.js";
import type { Firing } from "./types.js";

const RULE = `rule r { severity low when x == 1 first seen c by u learning 0ms }`;

function compiled(): CompiledFirstSeen {
  const pack = loadPack([{ path: "t.vigil", text: RULE }]);
  const corr = pack.rules[0]?.correlation;
  if (corr?.kind !== "first_seen") throw new Error("not a first seen rule");
  return corr;
}

interface Ev {
  readonly ts: number;
  readonly u: string;
  readonly c: string;
}

/** The naive model: a map of (key, value) → last seen and timer; eviction takes the earliest timer. */
function reference(events: readonly Ev[], ttl: number, max: number): { fired: string[]; live: number; evicted: number } {
  const pairs = new Map<string, { last: number; armed: number }>();
  const fired: string[] = [];
  let evicted = 0;
  for (const e of events) {
    for (const [k, p] of pairs) {
      if (p.armed >= e.ts) continue;
      if (p.last + ttl < e.ts) pairs.delete(k);
      else p.armed = p.last + ttl;
    }
    const k = `${e.u}/${e.c}`;
    const p = pairs.get(k);
    if (p !== undefined) {
      p.last = Math.max(p.last, e.ts);
      continue;
    }
    if (pairs.size >= max) {
      let oldest: string | undefined;
      let at = Infinity;
      for (const [q, v] of pairs)
        if (v.armed < at) {
          at = v.armed;
          oldest = q;
        }
      if (oldest !== undefined) pairs.delete(oldest);
      evicted++;
    }
    pairs.set(k, { last: e.ts, armed: e.ts + ttl });
    fired.push(`${k}@${e.ts}`);
  }
  return { fired, live: pairs.size, evicted };
}

function correlator(ttl: number, max: number, shared: boolean, out: string[], evicted: { n: number }): FirstSeenCorrelator {
  const fire = (f: Firing) => out.push(`${f.keyValues.join("/")}@${f.at}`);
  return new FirstSeenCorrelator(compiled(), fire, ttl, max, () => void evicted.n++, shared ? new KeyIndex() : undefined);
}

test("property: first seen forgets after its ttl and evicts the earliest timer at the cap, as the reference model (also across a snapshot)", () => {
  fc.assert(
    fc.property(
      // Up to 12 values per key: a key holds them inline, in its small array, then in a map.
      fc.array(fc.record({ dt: fc.integer({ min: 1, max: 3_000 }), u: fc.constantFrom("a", "b"), c: fc.integer({ min: 0, max: 11 }).map((i) => `v${i}`) }), { maxLength: 120, size: "max" }),
      fc.constantFrom(2, 3, 5, 12, 100),
      fc.boolean(),
      fc.nat(100),
      fc.constantFrom(8_000, 60_000),
      (evs, max, shared, cut, ttl) => {
        let ts = 0;
        const stream = evs.map((e) => ({ ts: (ts += e.dt), u: e.u, c: e.c }));
        const expected = reference(stream, ttl, max);
        const got: string[] = [];
        const evicted = { n: 0 };
        let c = correlator(ttl, max, shared, got, evicted);
        stream.forEach((e, i) => {
          if (i === cut) {
            // Continue on a restored copy of the state.
            const data: unknown = JSON.parse(JSON.stringify(c.snapshot(new EventEncoder())));
            c = correlator(ttl, max, !shared, got, evicted);
            c.restore(data, new EventDecoder([]));
          }
          const ev: EngineEvent = { id: `e${i}`, ts: e.ts, seq: i, fields: { x: 1, u: e.u, c: e.c } };
          c.advance(e.ts);
          c.onMatch(ev);
        });
        expect(got).toEqual(expected.fired);
        expect(c.liveKeys()).toBe(expected.live);
        expect(evicted.n).toBe(expected.evicted);
      },
    ),
    { numRuns: 500 },
  );
});

test("a snapshot of first seen keeps the text of each (key, value) pair", () => {
  const out: string[] = [];
  const c = correlator(60_000, 100, true, out, { n: 0 });
  c.onMatch({ id: "e1", ts: 1, seq: 1, fields: { x: 1, u: "a", c: "FR" } });
  c.onMatch({ id: "e2", ts: 2, seq: 2, fields: { x: 1, u: "a", c: "DE" } });
  expect(c.snapshot(new EventEncoder())).toEqual({
    learningEnds: 1,
    seen: [
      ["a\u001f\u001fFR", 1],
      ["a\u001f\u001fDE", 2],
    ],
    expiry: [
      [60_001, "a\u001f\u001fFR"],
      [60_002, "a\u001f\u001fDE"],
    ],
  });
});
