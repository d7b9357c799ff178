/**
 * Decoded events in transit from a decoding thread to the engine's thread, in batches that are
 * cheap to send and to rebuild (structured clone of plain objects is several times slower):
 *
 * - every event's fields become one *shape* (its keys in order, each with the kind of its
 *   value) and the values; the receiver builds each shape's objects with one generated object
 *   literal, so events of a shape share one hidden class, as the decoder's own objects do
 *   (bounded: after 4,096 shapes both sides start over);
 * - numbers, booleans and dictionary indices go in one Float64Array (transferred, not copied);
 * - repeating strings (host, program, action, category, outcome…) are sent once into a
 *   dictionary both sides keep (bounded: it starts over when full), so the receiver shares one
 *   string per value; `event.id`, `message`, long strings and the values of a field that are
 *   mostly new (addresses, users of a busy log) go as they are;
 * - anything else (nested objects, arrays: JSON events) is structured-cloned.
 *
 * The rebuilt fields have the same keys, in the same order, with equal values.
 */
import type { EventFields } from "../../engine/event.js";

/** What a batch carries for a line that did not become an event. */
export interface BatchFailure {
  readonly line: number;
  readonly reason: string;
  readonly message: string;
}

export interface EventBatch {
  /** Dictionary strings added by this batch (appended to the receiver's, after a reset if `resetDict`). */
  readonly dict: string[];
  readonly resetDict: boolean;
  /** Shapes first used in this batch (appended to the receiver's, after a reset if `resetShapes`). */
  readonly resetShapes: boolean;
  /** Keys and kinds of each new shape, as `kind + key` strings. */
  readonly shapes: string[][];
  /** Per event: shape, ts, line; then the shape's numeric values. */
  readonly nums: Float64Array;
  /** Per event: id; then the shape's plain string values. */
  readonly strs: string[];
  /** The shape's structured-cloned values. */
  readonly objs: unknown[];
  readonly events: number;
  readonly failures: BatchFailure[];
}

// Kinds of a value, the first character of a shape entry.
const NUM = "n";
const BOOL = "b";
const DICT = "d";
const STR = "s";
const ID = "i"; // the event's own id string
const UNDEF = "u";
const NULL = "z";
const OBJ = "o";

/** The shape number of an event sent by its time alone ({@link EventBatchWriter.addPassed}). */
const PASSED = -1;

/** Strings longer than this are not worth a dictionary entry. */
const MAX_DICT_STRING = 64;
const MAX_DICT = 65_536;
/** Shapes and trie nodes kept: past either, both sides start over with the next batch. */
const MAX_SHAPES = 4_096;
const MAX_NODES = 65_536;
/** Keys whose projection a trie node remembers. */
const MAX_MET_KEYS = 16;
/** Keys whose projection is remembered (then it starts over). */
const MAX_KEPT_KEYS = 4_096;
/** A field is sent without the dictionary after this many misses, if they are a quarter of its look-ups. */
const VARIED_MISSES = 1_000;

/**
 * A node of the shape trie: the shape so far, one (key, kind) edge per field. Shapes are found
 * by walking it with identity comparisons (keys and kinds are the same strings event after
 * event), and each node remembers the last dictionary string of its field (mostly the same).
 */
class ShapeNode {
  readonly keys: string[] = [];
  readonly kinds: string[] = [];
  readonly next: ShapeNode[] = [];
  shape = -1;
  lastString: string | undefined = undefined;
  lastIndex = -1;
  lastGeneration = -1;
  /** Dictionary look-ups for this field and how many found nothing; `varied` once most do. */
  looks = 0;
  misses = 0;
  varied = false;
  /** Keys met right after this node and whether the projection keeps them (see EventBatchWriter.projectTo). */
  readonly metKeys: string[] = [];
  readonly metKept: boolean[] = [];
  /** The projection (EventBatchWriter's count of projectTo calls) the two lists were made under. */
  metProjection = 0;

  constructor(
    readonly parent: ShapeNode | undefined,
    /** The edge from the parent: kind + key. */
    readonly entry: string,
    private readonly trie: { nodes: number },
  ) {}

  child(key: string, kind: string): ShapeNode {
    const keys = this.keys;
    for (let c = 0; c < keys.length; c++) if (keys[c] === key && this.kinds[c] === kind) return this.next[c] as ShapeNode;
    const n = new ShapeNode(this, kind + key, this.trie);
    this.trie.nodes++;
    keys.push(key);
    this.kinds.push(kind);
    this.next.push(n);
    return n;
  }
}

/** A shape's entries, from the root to `node` (iterative: an event may have thousands of keys). */
function entriesOf(node: ShapeNode): string[] {
  const out: string[] = [];
  for (let n: ShapeNode | undefined = node; n?.parent !== undefined; n = n.parent) out.push(n.entry);
  return out.reverse();
}

/** Builds batches on the decoding side. Not thread-safe; one per decoding thread. */
export class EventBatchWriter {
  private readonly dict = new Map<string, number>();
  /** Bumped when the dictionary starts over (the trie's remembered indices are then stale). */
  private generation = 0;
  private readonly trie = { nodes: 0 };
  private root = new ShapeNode(undefined, "", this.trie);
  private shapeCount = 0;
  private resetShapes = false;
  private dictAdded: string[] = [];
  private resetDict = false;
  private shapesAdded: string[][] = [];
  /** Numbers of the batch so far: [0, numCount) of a buffer that grows by doubling. */
  private nums: Float64Array = new Float64Array(4096);
  private numCount = 0;
  private strs: string[] = [];
  private objs: unknown[] = [];
  private failures: BatchFailure[] = [];
  private events = 0;
  /** Keys sent (see {@link projectTo}), decided once per key; undefined: all. */
  private keyKept: ((key: string) => boolean) | undefined;
  private readonly keptKeys = new Map<string, boolean>();
  /** Counts projectTo calls: a trie node's remembered decisions hold for one projection. */
  private projection = 0;

  get size(): number {
    return this.events + this.failures.length;
  }

  /**
   * From now on, sends only the keys for which `keep` is true (decided once per key: a
   * bounded number of keys is remembered). The receiver's objects lack the others.
   */
  projectTo(keep: (key: string) => boolean): void {
    this.keyKept = keep;
    this.keptKeys.clear();
    this.projection++;
  }

  private kept(key: string): boolean {
    let k = this.keptKeys.get(key);
    if (k === undefined) {
      k = (this.keyKept as (key: string) => boolean)(key);
      if (this.keptKeys.size >= MAX_KEPT_KEYS) this.keptKeys.clear();
      this.keptKeys.set(key, k);
    }
    return k;
  }

  addFailure(line: number, reason: string, message: string): void {
    this.failures.push({ line, reason, message });
  }

  /**
   * An event that is sent by its time alone (no rule can act on its fields): the receiver
   * hands it to `onPass`.
   */
  addPassed(ts: number, line: number): void {
    let at = this.numCount;
    const nums = at + 3 > this.nums.length ? this.grow(at, at + 3) : this.nums;
    nums[at++] = PASSED;
    nums[at++] = ts;
    nums[at++] = line;
    this.numCount = at;
    this.events++;
  }

  add(fields: EventFields, ts: number, id: string, line: number): void {
    const strs = this.strs;
    const objs = this.objs;
    // Room for the event's header and one number per field (a field takes at most one).
    let nums = this.nums;
    let at = this.numCount;
    if (at + 3 + 64 > nums.length) nums = this.grow(at, at + 3 + 64);
    const start = at;
    nums[at + 1] = ts;
    nums[at + 2] = line;
    at += 3;
    strs.push(id);
    let node = this.root;
    let count = 0;
    const project = this.keyKept !== undefined;
    // Own enumerable keys in order, as the receiver's literal will have them (for-in walks
    // them in the order of Object.keys: the decoders' objects inherit nothing enumerable).
    for (const key in fields) {
      if (project) {
        // Decided once per trie node and key (identity comparisons), else by the writer's map.
        const met = node.metKeys;
        if (node.metProjection !== this.projection) {
          met.length = 0;
          node.metKept.length = 0;
          node.metProjection = this.projection;
        }
        let c = 0;
        while (c < met.length && met[c] !== key) c++;
        let keep: boolean;
        if (c < met.length) keep = node.metKept[c] as boolean;
        else {
          keep = this.kept(key);
          if (c < MAX_MET_KEYS) {
            met.push(key);
            node.metKept.push(keep);
          }
        }
        if (!keep) continue;
      }
      if (++count > 64 && at + 1 > nums.length) nums = this.grow(at, at + 64);
      const v = fields[key];
      switch (typeof v) {
        case "string":
          if (v === id) node = node.child(key, ID);
          else if (key === "message" || v.length > MAX_DICT_STRING) {
            node = node.child(key, STR);
            strs.push(v);
          } else {
            const d = node.child(key, DICT);
            if (d.varied) {
              // Mostly new values (addresses, users, times of a busy log): sent as they are.
              node = node.child(key, STR);
              strs.push(v);
            } else {
              node = d;
              if (v !== d.lastString || d.lastGeneration !== this.generation) {
                d.lastString = v;
                d.lastIndex = this.dictIndex(v, d);
                d.lastGeneration = this.generation;
              }
              nums[at++] = d.lastIndex;
            }
          }
          break;
        case "number":
          node = node.child(key, NUM);
          nums[at++] = v;
          break;
        case "boolean":
          node = node.child(key, BOOL);
          nums[at++] = v ? 1 : 0;
          break;
        case "undefined":
          node = node.child(key, UNDEF);
          break;
        default:
          if (v === null) node = node.child(key, NULL);
          else {
            node = node.child(key, OBJ);
            objs.push(v);
          }
      }
    }
    if (node.shape < 0) {
      node.shape = this.shapeCount++;
      this.shapesAdded.push(entriesOf(node));
    }
    nums[start] = node.shape;
    this.numCount = at;
    this.events++;
  }

  /** A larger number buffer holding the first `used` numbers (at least `need` slots). */
  private grow(used: number, need: number): Float64Array {
    const next = new Float64Array(Math.max(need, this.nums.length * 2));
    next.set(this.nums.subarray(0, used));
    this.nums = next;
    return next;
  }

  private dictIndex(s: string, field: ShapeNode): number {
    let n = this.dict.get(s);
    field.looks++;
    if (n === undefined) {
      if (++field.misses > VARIED_MISSES && field.misses * 4 > field.looks) field.varied = true;
      n = this.dict.size;
      this.dict.set(s, n);
      this.dictAdded.push(s);
    }
    return n;
  }

  /** The batch so far (and a fresh one started); its `nums` buffer can be transferred. */
  take(): EventBatch {
    const b: EventBatch = {
      dict: this.dictAdded,
      resetDict: this.resetDict,
      resetShapes: this.resetShapes,
      shapes: this.shapesAdded,
      nums: this.nums.slice(0, this.numCount),
      strs: this.strs,
      objs: this.objs,
      events: this.events,
      failures: this.failures,
    };
    this.dictAdded = [];
    this.resetShapes = this.shapeCount >= MAX_SHAPES || this.trie.nodes >= MAX_NODES;
    if (this.resetShapes) {
      this.trie.nodes = 0;
      this.root = new ShapeNode(undefined, "", this.trie);
      this.shapeCount = 0;
    }
    // Bounded: once full, the next batch starts a new dictionary (this one's indices stay valid for it).
    this.resetDict = this.dict.size >= MAX_DICT;
    if (this.resetDict) {
      this.dict.clear();
      this.generation++;
    }
    this.shapesAdded = [];
    this.numCount = 0;
    this.strs = [];
    this.objs = [];
    this.failures = [];
    this.events = 0;
    return b;
  }
}

type Builder = (n: Float64Array, i: number, s: readonly string[], j: number, o: readonly unknown[], k: number, d: readonly string[], id: string) => EventFields;

interface Shape {
  readonly build: Builder;
  readonly nums: number;
  readonly strs: number;
  readonly objs: number;
}

/** Rebuilds events from batches, in order; keeps the dictionary and shapes across batches. */
export class EventBatchReader {
  private dict: string[] = [];
  private shapes: Shape[] = [];

  /**
   * Calls `onEvent` for each event of `b` in order, or `onPass` for an event sent by its time
   * alone; failures are the caller's (`b.failures`).
   */
  read(b: EventBatch, onEvent: (fields: EventFields, ts: number, id: string, line: number) => void, onPass?: (ts: number, line: number) => void): void {
    if (b.resetDict) this.dict = [];
    if (b.resetShapes) this.shapes = [];
    for (const s of b.dict) this.dict.push(s);
    for (const entries of b.shapes) this.shapes.push(compileShape(entries));
    const { nums, strs, objs } = b;
    const dict = this.dict;
    let i = 0;
    let j = 0;
    let k = 0;
    for (let e = 0; e < b.events; e++) {
      const shape = nums[i] as number;
      const ts = nums[i + 1] as number;
      const line = nums[i + 2] as number;
      i += 3;
      if (shape === PASSED) {
        if (onPass === undefined) throw new Error("a batch with events sent by their time alone needs onPass");
        onPass(ts, line);
        continue;
      }
      const id = strs[j] as string;
      j++;
      const sh = this.shapes[shape] as Shape;
      const fields = sh.build(nums, i, strs, j, objs, k, dict, id);
      i += sh.nums;
      j += sh.strs;
      k += sh.objs;
      onEvent(fields, ts, id, line);
    }
  }
}

/** One object literal for a shape: the same keys in the same order, values read from the batch. */
function compileShape(entries: readonly string[]): Shape {
  let nums = 0;
  let strs = 0;
  let objs = 0;
  const props = entries.map((entry) => {
    const kind = entry[0];
    const key = JSON.stringify(entry.slice(1));
    switch (kind) {
      case NUM:
        return `${key}: n[i + ${nums++}]`;
      case BOOL:
        return `${key}: n[i + ${nums++}] === 1`;
      case DICT:
        return `${key}: d[n[i + ${nums++}]]`;
      case STR:
        return `${key}: s[j + ${strs++}]`;
      case ID:
        return `${key}: id`;
      case UNDEF:
        return `${key}: undefined`;
      case NULL:
        return `${key}: null`;
      default:
        return `${key}: o[k + ${objs++}]`;
    }
  });
  // Keys such as "__proto__" must stay own data properties, as JSON.parse and the decoders make them.
  const safe = entries.every((e) => e.slice(1) !== "__proto__");
  // Generated code as in dsl/compile/codegen.ts: keys are JSON string literals, values index reads.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const build = safe ? (new Function("n", "i", "s", "j", "o", "k", "d", "id", `return { ${props.join(", ")} };`) as Builder) : slowBuilder(entries);
  return { build, nums, strs, objs };
}

/** A builder by property definition, for shapes a literal cannot express. */
function slowBuilder(entries: readonly string[]): Builder {
  return (n, i, s, j, o, k, d, id) => {
    const out: EventFields = {};
    for (const entry of entries) {
      const key = entry.slice(1);
      let v: unknown;
      switch (entry[0]) {
        case NUM:
          v = n[i++];
          break;
        case BOOL:
          v = n[i++] === 1;
          break;
        case DICT:
          v = d[n[i++] as number];
          break;
        case STR:
          v = s[j++];
          break;
        case ID:
          v = id;
          break;
        case UNDEF:
          v = undefined;
          break;
        case NULL:
          v = null;
          break;
        default:
          v = o[k++];
      }
      Object.defineProperty(out, key, { value: v, writable: true, enumerable: true, configurable: true });
    }
    return out;
  };
}
