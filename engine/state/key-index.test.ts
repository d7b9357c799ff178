import fc from "fast-check";
import { expect, test } from "vitest";
import { KeyIndex, SlotMap } from "./key-index.js";

type Op = { readonly kind: "set" | "delete"; readonly slot: number; readonly key: string; readonly value: number };

test("property: slot maps sharing a key index behave as one Map per rule; a key stays, with its text after its slots, until its last slot empties", () => {
  const opArb = fc.record({
    kind: fc.constantFrom<"set" | "delete">("set", "set", "delete"),
    slot: fc.integer({ min: 0, max: 3 }),
    key: fc.constantFrom("a", "b", "c", "d"),
    value: fc.integer({ min: 0, max: 9 }),
  });
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 120 }), (ops: Op[]) => {
      const index = new KeyIndex<unknown>();
      const maps = [0, 1, 2, 3].map(() => new SlotMap<number>(index, index.addSlot()));
      const models = maps.map(() => new Map<string, number>());
      // The keys the index should hold (text by key).
      const copies = new Map<string, string>();
      ops.forEach((op, i) => {
        const key = op.key;
        const ev = { i };
        if (op.kind === "set") {
          maps[op.slot]?.set(key, op.value, ev);
          models[op.slot]?.set(op.key, op.value);
          if (!copies.has(op.key)) copies.set(op.key, key);
        } else {
          expect(maps[op.slot]?.delete(key)).toBe(models[op.slot]?.delete(op.key));
          if (models.every((m) => !m.has(op.key))) copies.delete(op.key);
        }
        maps.forEach((m, s) => {
          const model = models[s] as Map<string, number>;
          expect(m.size).toBe(model.size);
          expect([...m].sort()).toEqual([...model].sort());
          for (const k of ["a", "b", "c", "d"]) expect(m.get(k)).toBe(model.get(k));
        });
        for (const k of ["a", "b", "c", "d"]) {
          const slots = index.get(undefined, k);
          expect(slots === undefined).toBe(!copies.has(k));
          if (slots !== undefined) expect(index.keyOf(slots)).toBe(copies.get(k));
          expect(maps[0]?.canonical(k)).toBe(copies.get(k) ?? k);
        }
      });
    }),
    { numRuns: 300 },
  );
});
