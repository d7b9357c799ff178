import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzipSync, gzip } from "node:zlib";
import type { KV } from "@nats-io/kv";
import type { Checkpoint, CheckpointStore } from "../../engine/pipeline.js";
import { encodeSliced } from "./sliced-json.js";

/** Under the 1 MB value limit of a NATS 2.9 server, with room for headers. */
const CHUNK_BYTES = 900 * 1024;
const gzipAsync = promisify(gzip);

interface Manifest {
  readonly generation: number;
  readonly chunks: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly position: number;
  readonly savedAt: string;
}

/**
 * Engine checkpoints in a NATS KV bucket: the gzipped JSON is written in chunks under a new
 * generation, then the manifest (the commit point), then the old generation is deleted. A
 * crash mid-write leaves the previous checkpoint intact; a torn one fails its hash.
 */
export class KvCheckpointStore implements CheckpointStore {
  /** The manifest this store last wrote (one writer per consumer): saves skip reading it back. */
  private last: Manifest | undefined;

  constructor(
    private readonly kv: KV,
    /** The consumer whose position the checkpoints record. */
    private readonly name: string,
  ) {}

  async load(): Promise<Checkpoint | undefined> {
    const entry = await this.kv.get(this.name);
    if (entry === null || entry.operation !== "PUT" || entry.value.length === 0) return undefined;
    const m = JSON.parse(entry.string()) as Manifest;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < m.chunks; i++) {
      const c = await this.kv.get(`${this.name}.g${m.generation}.c${i}`);
      if (c === null || c.operation !== "PUT") throw new Error(`checkpoint ${this.name}: chunk ${i} of generation ${m.generation} is missing`);
      parts.push(c.value);
    }
    const zipped = Buffer.concat(parts);
    const sha = createHash("sha256").update(zipped).digest("hex");
    if (sha !== m.sha256) throw new Error(`checkpoint ${this.name}: generation ${m.generation} fails its hash`);
    return JSON.parse(gunzipSync(zipped).toString("utf8")) as Checkpoint;
  }

  async save(cp: Checkpoint): Promise<void> {
    // The snapshot is detached (Engine.snapshot): it is serialised in slices between the
    // batches the worker goes on with, compressed in libuv's thread pool, then written.
    const json = await encodeSliced(cp);
    const zipped = await gzipAsync(json, { level: 1 });
    let prevManifest = this.last;
    if (prevManifest === undefined) {
      const prev = await this.kv.get(this.name);
      prevManifest = prev !== null && prev.operation === "PUT" && prev.value.length > 0 ? (JSON.parse(prev.string()) as Manifest) : undefined;
    }
    const generation = (prevManifest?.generation ?? 0) + 1;
    const chunks = Math.max(1, Math.ceil(zipped.length / CHUNK_BYTES));
    for (let i = 0; i < chunks; i++) await this.kv.put(`${this.name}.g${generation}.c${i}`, zipped.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
    const manifest: Manifest = {
      generation,
      chunks,
      bytes: zipped.length,
      sha256: createHash("sha256").update(zipped).digest("hex"),
      position: cp.position,
      savedAt: cp.savedAt,
    };
    await this.kv.put(this.name, JSON.stringify(manifest));
    this.last = manifest;
    if (prevManifest !== undefined) for (let i = 0; i < prevManifest.chunks; i++) await this.kv.purge(`${this.name}.g${prevManifest.generation}.c${i}`);
  }
}
