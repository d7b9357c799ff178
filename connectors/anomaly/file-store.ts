import { mkdir, readdir, readFile, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { type ModelFile, parseModelFile } from "../../engine/anomaly/model-file.js";
import { infoOf, type ModelStore, type StoredModelInfo } from "../../engine/anomaly/store.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const VERSION_FILE = /^v(\d+)\.json$/;

/**
 * Models as JSON files, the embedded default: `DIR/NAME/v000001.json`, one file per version,
 * written to a temporary name and renamed (never a half-written model).
 */
export class FileModelStore implements ModelStore {
  constructor(private readonly dir: string) {}

  private checkName(name: string): void {
    if (!NAME.test(name)) throw new RangeError(`model name ${JSON.stringify(name)}: use letters, digits, _ . - (starting with a letter or _)`);
  }

  private async versions(name: string): Promise<number[]> {
    this.checkName(name);
    try {
      const files = await readdir(join(this.dir, name));
      return files.flatMap((f) => {
        const m = VERSION_FILE.exec(f);
        return m === null ? [] : [Number(m[1])];
      }).sort((a, b) => a - b);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  private path(name: string, version: number): string {
    return join(this.dir, name, `v${String(version).padStart(6, "0")}.json`);
  }

  async save(file: ModelFile): Promise<ModelFile> {
    const versions = await this.versions(file.name);
    const stored: ModelFile = { ...file, version: (versions[versions.length - 1] ?? 0) + 1 };
    await mkdir(join(this.dir, file.name), { recursive: true });
    const target = this.path(file.name, stored.version);
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(stored) + "\n", { flag: "wx" });
    await rename(tmp, target);
    return stored;
  }

  async get(name: string, version: number): Promise<ModelFile | undefined> {
    this.checkName(name);
    const p = this.path(name, version);
    let text: string;
    try {
      text = await readFile(p, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    return parseModelFile(JSON.parse(text), p);
  }

  async latest(name: string): Promise<ModelFile | undefined> {
    const v = await this.versions(name);
    const last = v[v.length - 1];
    return last === undefined ? undefined : this.get(name, last);
  }

  async list(name: string): Promise<StoredModelInfo[]> {
    const out: StoredModelInfo[] = [];
    for (const v of await this.versions(name)) {
      const f = await this.get(name, v);
      if (f !== undefined) out.push(infoOf(f));
    }
    return out;
  }
}
