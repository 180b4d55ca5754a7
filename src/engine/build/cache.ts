// The classic builder's layer cache: (parent image, step) → the image the
// step made. A step is its instruction as dispatched (with build args, and
// for COPY/ADD a checksum of the files). Kept as one JSON file beside the
// database: it is only a cache, and an entry whose image is gone is dropped.
// It also tells which untagged images are intermediate steps (parents of
// another step), which `docker images` hides as dockerd does.
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';

interface Entry {
  parent: string;
  id: string;
}

export class BuildCache {
  private entries = new Map<string, Entry>();
  private parents = new Set<string>();
  private writing = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly exists: (imageId: string) => boolean,
  ) {}

  static key(parent: string, step: string): string {
    return createHash('sha256').update(parent).update('\0').update(step).digest('hex');
  }

  async load(): Promise<void> {
    try {
      const raw = JSON.parse(await readFile(this.file, 'utf8')) as Record<string, Entry>;
      for (const [k, e] of Object.entries(raw)) if (typeof e?.id === 'string' && typeof e.parent === 'string') this.entries.set(k, e);
    } catch {
      // none yet, or unreadable: start empty
    }
    this.reindex();
  }

  private reindex(): void {
    for (const [k, e] of this.entries) if (!this.exists(e.id)) this.entries.delete(k);
    this.parents = new Set([...this.entries.values()].map((e) => e.parent));
  }

  /** An untagged image that a cached step builds on. */
  isParent(imageId: string): boolean {
    return this.parents.has(imageId);
  }

  get(parent: string, step: string): string | undefined {
    const e = this.entries.get(BuildCache.key(parent, step));
    if (e && this.exists(e.id)) return e.id;
    return undefined;
  }

  async put(parent: string, step: string, imageId: string): Promise<void> {
    this.entries.set(BuildCache.key(parent, step), { parent, id: imageId });
    this.reindex();
    const data = JSON.stringify(Object.fromEntries(this.entries));
    this.writing = this.writing.then(async () => {
      const tmp = `${this.file}.tmp`;
      await writeFile(tmp, data, { mode: 0o600 });
      await rename(tmp, this.file);
    });
    await this.writing;
  }
}
