import fc from "fast-check";
import { expect, test } from "vitest";
import { TimedQueue } from "./timed-queue.js";

test("TimedQueue behaves as an array of (item, time) used as a FIFO", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.tuple(fc.string(), fc.double({ noNaN: true })), fc.constant(null)), { maxLength: 300 }), (ops) => {
      const q = new TimedQueue<string>(2);
      const model: [string, number][] = [];
      for (const op of ops) {
        if (op === null) {
          q.shift();
          model.shift();
        } else {
          q.push(op[1], op[0]);
          model.push(op);
        }
        expect(q.size).toBe(model.length);
        expect(q.peekItem()).toBe(model[0]?.[0]);
        expect(q.peekTime()).toBe(model[0]?.[1] ?? Infinity);
      }
      expect(q.toArray()).toEqual(model);
    }),
  );
});
