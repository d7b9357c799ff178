import fc from "fast-check";
import { expect, test } from "vitest";
import { stringifySliced } from "./sliced-json.js";

test("property: the same text as JSON.stringify, deep or flat, with undefined members", async () => {
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      fc.jsonValue({ maxDepth: 2 }),
      fc.array(tie("node"), { maxLength: 5 }),
      fc.dictionary(fc.string(), fc.oneof(tie("node"), fc.constant(undefined)), { maxKeys: 5 }),
    ),
  })).node;
  await fc.assert(
    fc.asyncProperty(value, fc.constantFrom(0, 5), async (v, sliceMs) => {
      expect(await stringifySliced(v, sliceMs)).toBe(JSON.stringify(v));
    }),
    { numRuns: 300 },
  );
});

test("a large value is written in slices: other work runs while it is serialised", async () => {
  const big = { rules: Object.fromEntries(Array.from({ length: 20 }, (_, r) => [`r${r}`, Array.from({ length: 5000 }, (__, i) => ({ k: `key-${i}`, t: i, ev: [i, "x".repeat(20)] }))])) };
  let turns = 0;
  const ticker = setInterval(() => turns++, 0);
  const text = await stringifySliced(big, 1);
  clearInterval(ticker);
  expect(text).toBe(JSON.stringify(big));
  expect(turns).toBeGreaterThan(0);
});
