import fc from "fast-check";
import { expect, test } from "vitest";
import { fieldReader, type KeySpec } from "../../dsl/index.js";
import { keyCombinations } from "./types.js";

/** The naive model: the cartesian product of each field's distinct usable values, first 16 tuples. */
function reference(by: readonly string[], fields: Record<string, unknown>): unknown[][] {
  let out: unknown[][] = [[]];
  for (const path of by) {
    const v = fields[path];
    if (v === undefined || v === null || v === "") return [];
    const vals: unknown[] = Array.isArray(v) ? [...new Set<unknown>(v)].filter((x) => x !== undefined && x !== null && x !== "") : [v];
    if (vals.length === 0) return [];
    out = out.flatMap((c) => vals.map((x) => [...c, x]));
  }
  return out.slice(0, 16);
}

test("property: the key tuples of an event are the product of its by-fields' values, as the reference model", () => {
  const scalar = fc.oneof(fc.constantFrom("a", "b", "", 1, 2), fc.constant(null), fc.constant(undefined));
  fc.assert(
    fc.property(fc.array(fc.oneof(scalar, fc.array(scalar, { maxLength: 5 })), { minLength: 1, maxLength: 4 }), (values) => {
      const by: KeySpec[] = values.map((_, i) => ({ path: `f${i}`, read: fieldReader(`f${i}`) }));
      const fields: Record<string, unknown> = {};
      values.forEach((v, i) => (fields[`f${i}`] = v));
      expect(keyCombinations(by, { id: "e", ts: 0, seq: 0, fields })).toEqual(reference(by.map((k) => k.path), fields));
    }),
    { numRuns: 1000 },
  );
});
