import { performance } from "node:perf_hooks";
import { setImmediate as yieldToLoop } from "node:timers/promises";

/** Objects above this depth are written member by member; deeper ones whole. */
const MAX_DEPTH = 6;
/** Array elements written with one JSON.stringify. */
const ARRAY_RUN = 64;
/** Text gathered before it is encoded into a buffer of its own (encodeSliced). */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes `JSON.stringify(value)` piece by piece to `emit`, giving the event loop a turn
 * whenever a slice has taken `sliceMs`. Objects are walked member by member (down to
 * MAX_DEPTH); an array's elements are written whole, ARRAY_RUN at a time: an engine
 * snapshot's bulk is long arrays of small items (events, columns of windows and keys), and
 * pieces that small would cost more (allocation, garbage collection) than they save.
 */
async function writeSliced(value: unknown, sliceMs: number, emit: (text: string) => void): Promise<void> {
  let sliceStart = performance.now();
  const pace = async (): Promise<void> => {
    if (performance.now() - sliceStart >= sliceMs) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  };
  const whole = (v: unknown): boolean => v === null || typeof v !== "object" || typeof (v as { toJSON?: unknown }).toJSON === "function";
  const write = async (v: unknown, depth: number): Promise<void> => {
    await pace();
    if (depth >= MAX_DEPTH || whole(v)) {
      emit(JSON.stringify(v) ?? "null");
      return;
    }
    if (Array.isArray(v)) {
      // ARRAY_RUN elements at a time, with one JSON.stringify (undefined, functions and
      // symbols become null in an array, as they must): a snapshot's columns are long arrays
      // of numbers and strings, and a call per element would cost more than the text.
      emit("[");
      for (let i = 0; i < v.length; i += ARRAY_RUN) {
        const text = JSON.stringify(i === 0 && v.length <= ARRAY_RUN ? v : v.slice(i, i + ARRAY_RUN));
        emit((i > 0 ? "," : "") + text.slice(1, -1));
        await pace();
      }
      emit("]");
      return;
    }
    emit("{");
    let first = true;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
      emit((first ? "" : ",") + JSON.stringify(k) + ":");
      first = false;
      await write(x, depth + 1);
    }
    emit("}");
  };
  await write(value, 0);
}

/**
 * `JSON.stringify(value)`, written piece by piece, giving the event loop a turn whenever a
 * slice has taken `sliceMs`: a checkpoint of many megabytes is serialised without holding up
 * the events that arrive meanwhile. `value` must not change until the promise resolves (an
 * engine snapshot is detached). Same text as JSON.stringify for JSON data (plain objects,
 * arrays, strings, finite numbers, booleans, null; `undefined` members left out).
 */
export async function stringifySliced(value: unknown, sliceMs = 5): Promise<string> {
  const out: string[] = [];
  await writeSliced(value, sliceMs, (s) => void out.push(s));
  return out.join("");
}

/**
 * The UTF-8 bytes of `JSON.stringify(value)`, serialised in slices as `stringifySliced` does
 * and encoded as it goes, 64 K characters at a time: no step joins or encodes the whole text
 * at once (for a checkpoint of many megabytes, tens of milliseconds that nothing else runs).
 */
export async function encodeSliced(value: unknown, sliceMs = 5): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let acc = "";
  await writeSliced(value, sliceMs, (s) => {
    acc += s;
    if (acc.length >= CHUNK_CHARS) {
      chunks.push(Buffer.from(acc, "utf8"));
      acc = "";
    }
  });
  if (acc.length > 0) chunks.push(Buffer.from(acc, "utf8"));
  return Buffer.concat(chunks);
}
