// The project-quota backend (XFS, ext4): an area is a directory with a project
// id and the inheritance flag, and hard limits on that id. Nothing is
// mounted, so activate and deactivate do nothing and limits change live, both
// ways. Which id an area has is recorded in <root>/<owner>.id (root is
// <data-root>/quota/project): start-up's sweep, resize and destroy read it
// there, and allocation never hands out an id recorded for another area.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { conflict, failedPrecondition, wrap } from '../../errdefs/index.ts';
import type { ProjectFs, ProjectSys } from '../../sys/quota/project.ts';
import { ownersUnder, type QuotaBackend } from './backend.ts';
import { formatSize, type QuotaLimit } from './limits.ts';

export interface ProjectBackendDeps {
  /** <data-root>/quota/project: one <owner>.id file per area. */
  root: string;
  /** The XFS or ext4 filesystem the data root is on. */
  fs: ProjectFs;
  sys: ProjectSys;
}

/** Ids joey picks start here, clear of the small ids admins hand out in
 * /etc/projid; an id given as QuotaID is used as given. */
export const FIRST_AUTO_ID = 100_000;
const MAX_ID = 0xffffffff;

export class ProjectBackend implements QuotaBackend {
  readonly kind = 'project' as const;
  readonly inodeLimits = true;
  readonly canShrink = true;
  /** Project quota counts in filesystem blocks: anything smaller is noise. */
  readonly minBytes = 1024 * 1024;
  /** Allocation reads the recorded ids and writes a new one: one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ProjectBackendDeps) {}

  private idFile(owner: string): string {
    return join(this.deps.root, `${owner}.id`);
  }

  /** The project id recorded for `owner`, if it has an area. */
  async projectId(owner: string): Promise<number | undefined> {
    const text = await readFile(this.idFile(owner), 'utf8').catch(() => undefined);
    const id = text === undefined ? NaN : Number(text.trim());
    return Number.isSafeInteger(id) && id > 0 ? id : undefined;
  }

  private async recorded(): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (const owner of await this.owners()) {
      const id = await this.projectId(owner);
      if (id !== undefined) out.set(id, owner);
    }
    return out;
  }

  /** Records an id for `owner`: `wanted` as given (refused if another area
   * has it), else the lowest free one from FIRST_AUTO_ID. */
  private claim(owner: string, wanted: number | undefined): Promise<number> {
    const step = this.queue.then(async () => {
      const used = await this.recorded();
      let id = wanted;
      if (id !== undefined) {
        const holder = used.get(id);
        if (holder !== undefined && holder !== owner) throw conflict(`project quota id ${id} is already used by ${holder}`);
      } else {
        id = FIRST_AUTO_ID;
        while (used.has(id)) id++;
        if (id > MAX_ID) throw failedPrecondition('no project quota id left');
      }
      const file = this.idFile(owner);
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(`${file}.tmp`, `${id}\n`);
      await rename(`${file}.tmp`, file);
      return id;
    });
    this.queue = step.catch(() => undefined);
    return step;
  }

  async create(owner: string, dir: string, limit: QuotaLimit, opts: { projectId?: number } = {}): Promise<void> {
    const id = await this.claim(owner, opts.projectId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      // The limit first: the area is never open without one.
      await this.deps.sys.setLimit(this.deps.fs, id, limit.bytes, limit.inodes ?? 0);
      await this.deps.sys.assign(this.deps.fs, dir, id);
    } catch (e) {
      // Undo: the limit if it was set, and the claim in any case.
      await this.deps.sys.setLimit(this.deps.fs, id, 0, 0).catch(() => undefined);
      await rm(this.idFile(owner), { force: true });
      throw wrap(e, `setting a ${formatSize(limit.bytes)} project quota (id ${id}) on ${dir}`);
    }
  }

  async activate(): Promise<void> {}
  async deactivate(): Promise<void> {}

  /** Live or not, grow or shrink: the new limit holds from the next write
   * (a shrink below what is used refuses writes until enough is freed). */
  async resize(owner: string, _dir: string, limit: QuotaLimit, _opts: { live: boolean }): Promise<void> {
    const id = await this.projectId(owner);
    if (id === undefined) throw failedPrecondition(`no project quota id recorded for ${owner}`);
    await this.deps.sys.setLimit(this.deps.fs, id, limit.bytes, limit.inodes ?? 0);
  }

  /** Lifts the limit and forgets the id (kept when lifting fails, so that a
   * retry or the sweep finds it); the directory's data goes with the snapshot
   * or volume that owns it. */
  async destroy(owner: string, _dir: string): Promise<void> {
    const id = await this.projectId(owner);
    if (id !== undefined) await this.deps.sys.setLimit(this.deps.fs, id, 0, 0);
    await rm(this.idFile(owner), { force: true });
  }

  owners(): Promise<string[]> {
    return ownersUnder(this.deps.root, '.id');
  }
}
