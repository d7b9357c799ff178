import fc from "fast-check";
import { expect, test } from "vitest";
import { RingQueue } from "./ring-queue.js";

test("RingQueue behaves as an array used as a FIFO", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 300 }), (ops) => {
      const q = new RingQueue<number>(2);
      const model: number[] = [];
      for (const op of ops) {
        if (op === null) expect(q.shift()).toBe(model.shift());
        else {
          q.push(op);
          model.push(op);
        }
        expect(q.size).toBe(model.length);
        expect(q.peek()).toBe(model[0]);
      }
      expect(q.toArray()).toEqual(model);
    }),
  );
});
