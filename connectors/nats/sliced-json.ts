import { performance } from "node:perf_hooks";
import { setImmediate as yieldToLoop } from "node:timers/promises";

/** Objects and arrays above this depth are written member by member; deeper ones whole. */
const MAX_DEPTH = 6;

/**
 * `JSON.stringify(value)`, written piece by piece, giving the event loop a turn whenever a
 * slice has taken `sliceMs`: a checkpoint of many megabytes is serialised without holding up
 * the events that arrive meanwhile. `value` must not change until the promise resolves (an
 * engine snapshot is detached). Same text as JSON.stringify for JSON data (plain objects,
 * arrays, strings, finite numbers, booleans, null; `undefined` members left out).
 */
export async function stringifySliced(value: unknown, sliceMs = 5): Promise<string> {
  const out: string[] = [];
  let sliceStart = performance.now();
  const write = async (v: unknown, depth: number): Promise<void> => {
    if (performance.now() - sliceStart >= sliceMs) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
    if (depth >= MAX_DEPTH || v === null || typeof v !== "object" || typeof (v as { toJSON?: unknown }).toJSON === "function") {
      out.push(JSON.stringify(v) ?? "null");
      return;
    }
    if (Array.isArray(v)) {
      out.push("[");
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out.push(",");
        const x: unknown = v[i];
        if (x === undefined || typeof x === "function" || typeof x === "symbol") out.push("null");
        else await write(x, depth + 1);
      }
      out.push("]");
      return;
    }
    out.push("{");
    let first = true;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
      out.push(first ? "" : ",", JSON.stringify(k), ":");
      first = false;
      await write(x, depth + 1);
    }
    out.push("}");
  };
  await write(value, 0);
  return out.join("");
}
