import fc from "fast-check";
import { expect, test } from "vitest";
import { encodeSliced, stringifySliced } from "./sliced-json.js";

test("property: the same text as JSON.stringify, deep or flat, with undefined members", async () => {
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      fc.jsonValue({ maxDepth: 2 }),
      fc.array(tie("node"), { maxLength: 5 }),
      // Long arrays (written in runs: runs meet at every boundary), with holes JSON writes as null.
      fc.array(fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constant(undefined)), { minLength: 60, maxLength: 200 }),
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

test("property: encodeSliced gives the UTF-8 bytes of JSON.stringify, across its 64 K chunks", async () => {
  const text = fc.string({ unit: "binary", maxLength: 40 });
  const value = fc.record({ events: fc.array(fc.record({ id: text, n: fc.integer(), f: fc.dictionary(text, text, { maxKeys: 4 }) }), { maxLength: 3000 }), rest: fc.jsonValue({ maxDepth: 3 }) });
  await fc.assert(
    fc.asyncProperty(value, fc.constantFrom(0, 5), async (v, sliceMs) => {
      expect((await encodeSliced(v, sliceMs)).equals(Buffer.from(JSON.stringify(v), "utf8"))).toBe(true);
    }),
    { numRuns: 60 },
  );
});

test("encodeSliced: a value of several 64 K chunks with multi-byte and surrogate-pair text", async () => {
  const big = { events: Array.from({ length: 20_000 }, (_, i) => ({ id: `ev-${i}`, user: i % 3 === 0 ? "zoë 🔑" : "ü".repeat(i % 7), n: i })), tail: { x: [1, "é"] } };
  const bytes = await encodeSliced(big, 1);
  expect(bytes.length).toBeGreaterThan(3 * 64 * 1024);
  expect(bytes.equals(Buffer.from(JSON.stringify(big), "utf8"))).toBe(true);
});
