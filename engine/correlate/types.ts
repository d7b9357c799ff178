import type { KeySpec } from "../../dsl/index.js";
import { keyText } from "../../dsl/index.js";
import type { EngineEvent } from "../event.js";
import type { EventDecoder, EventEncoder } from "../snapshot-codec.js";
import type { WindowEntry } from "../window.js";

/** What a correlation hands the engine when its rule fires. */
export interface Firing {
  /** Event time at which the rule fired. */
  readonly at: number;
  /** The event whose fields feed `suppress` keys and action arguments. */
  readonly trigger: EngineEvent;
  /** The correlation's key values, in the order of `keyPaths`. */
  readonly keyValues: readonly unknown[];
  readonly keyPaths: readonly KeySpec[];
  /** The events that made the rule fire, oldest first. */
  readonly entries: readonly WindowEntry[];
  readonly value?: number;
  /** Further key fields shown on the alert (the new values of `first seen`). */
  readonly extraKeys?: Readonly<Record<string, unknown>>;
}

/** One rule's correlation state machine (sequence, absence, first seen). */
export interface Correlator {
  /** An event the rule's `when` (and `except`) matched. */
  onMatch(ev: EngineEvent): void;
  /** Every event sent to the rule, before `when` (sequences' `until`). */
  onEvent?(ev: EngineEvent): void;
  /** The watermark moved: expire state, fire timers that are due. */
  advance(watermark: number): void;
  /** Live keys (state is bounded; metrics and tests read this). */
  liveKeys(): number;
  /** The state as plain data (events by index into the snapshot's event table). */
  snapshot(enc: EventEncoder): unknown;
  /** Replaces the state with a snapshot's (of the same rule version). */
  restore(data: unknown, dec: EventDecoder): void;
}

/** A correlation's state by key: a Map, or its slot in a map of keys shared with other rules (`SlotMap`). */
export interface KeyStore<V> {
  readonly size: number;
  /** `ev`: the event being processed, when there is one (a shared map's lookup is then shared). */
  get(key: string, ev?: object): V | undefined;
  set(key: string, value: V, ev?: object): void;
  delete(key: string): boolean;
  clear(): void;
  [Symbol.iterator](): Iterator<[string, V]>;
}

export const KEY_SEP = "\u001f";
const MAX_KEY_COMBINATIONS = 16;

export function entryOf(ev: EngineEvent, value?: string | number): WindowEntry {
  return { ts: ev.ts, seq: ev.seq, event: ev, value };
}

/** One string per distinct source (file, subject), up to this many: see `canonicalSource`. */
const SOURCES_MAX = 4096;
const sources = new Map<string, string>();

/**
 * The one copy kept of an event's source text. Every event decoded from a stream carries its
 * own copy of a text shared by a great many (`security.events.sshd.authentication`), and
 * state that keeps evidence (window entries, partial matches) would otherwise keep one per
 * entry.
 */
export function canonicalSource(source: string | undefined): string | undefined {
  if (source === undefined) return undefined;
  // An event feeds several rules' state in turn: its own text is looked up once.
  if (source === lastSource) return lastKept;
  let kept = sources.get(source);
  if (kept === undefined) {
    kept = source;
    if (sources.size < SOURCES_MAX) sources.set(source, source);
  }
  lastSource = source;
  lastKept = kept;
  return kept;
}

/** The last text looked up (compared by identity first) and the copy kept of it. */
let lastSource: string | undefined;
let lastKept: string | undefined;

export function firstScalar(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The key tuples an event joins: one per combination of by-field values (an array-valued
 * field joins each of its elements); none when a by-field is missing.
 */
export function keyCombinations(by: readonly KeySpec[], ev: EngineEvent): unknown[][] {
  // The common case first: every by-field holds one value (one tuple, two arrays; the tuple,
  // which state may keep as the key's values, of its exact length).
  const one = new Array<unknown>(by.length);
  for (let i = 0; i < by.length; i++) {
    const v = (by[i] as KeySpec).read(ev.fields);
    if (v === undefined || v === null || v === "") return [];
    if (Array.isArray(v)) return combinations(by, ev);
    one[i] = v;
  }
  return [one];
}

/** `keyCombinations` when a by-field holds an array. */
function combinations(by: readonly KeySpec[], ev: EngineEvent): unknown[][] {
  let combos: unknown[][] = [[]];
  for (const k of by) {
    const v = k.read(ev.fields);
    if (v === undefined || v === null || v === "") return [];
    const vals = Array.isArray(v) ? [...new Set(v.filter((x) => x !== undefined && x !== null && x !== ""))] : [v];
    if (vals.length === 0) return [];
    const next: unknown[][] = [];
    for (const c of combos) for (const x of vals) if (next.length < MAX_KEY_COMBINATIONS) next.push([...c, x]);
    combos = next;
  }
  return combos;
}

/**
 * The one key an event joins when each by-field holds a single value (the common case, with
 * no allocation beyond the key's text): its text; null when a by-field is missing (no key);
 * undefined when a by-field holds an array (use `keyCombinations`).
 */
export function soleKey(by: readonly KeySpec[], ev: EngineEvent): string | null | undefined {
  if (by.length === 1) {
    const v = (by[0] as KeySpec).read(ev.fields);
    if (v === undefined || v === null || v === "") return null;
    return Array.isArray(v) ? undefined : typeof v === "string" ? v : keyText(v);
  }
  let key = "";
  for (let i = 0; i < by.length; i++) {
    const v = (by[i] as KeySpec).read(ev.fields);
    if (v === undefined || v === null || v === "") return null;
    if (Array.isArray(v)) return undefined;
    key = i === 0 ? keyText(v) : key + KEY_SEP + keyText(v);
  }
  return key;
}

export function keyString(values: readonly unknown[]): string {
  return values.length === 1 ? keyText(values[0]) : values.map(keyText).join(KEY_SEP);
}

/** Forgets the key whose timer is earliest (the per-rule key cap), counting it. */
export function evictEarliest(timers: { pop(): { key: string } | undefined }, keys: { delete(k: string): boolean }, onEvict: () => void): void {
  for (let d = timers.pop(); d !== undefined; d = timers.pop()) {
    if (keys.delete(d.key)) {
      onEvict();
      return;
    }
  }
}
