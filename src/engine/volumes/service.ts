// The volume service: local volumes under <data-root>/volumes/<name>/_data,
// and the mounts of containers (binds, volumes, --mount tmpfs) resolved at
// create. Anonymous volumes (image VOLUMEs, `-v /path`) are made here and go
// with their container on `rm -v`; a volume in use cannot be removed.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid, notFound, notImplemented } from '../../errdefs/index.ts';
import type { Filters } from '../../images/types.ts';
import type { Database } from '../../metadata/db.ts';
import { resolveInRoot } from '../../runtime/spec/rootfs-file.ts';
import { copyTree } from '../../sys/copy.ts';
import { checkFilterKeys, labelMatches } from '../../util/filters.ts';
import { log } from '../../util/log.ts';
import type { EventBus } from '../types.ts';
import type { ContainerConfig, HostConfig, MountPoint } from '../containers/types.ts';
import { planMounts, type MountRequest } from './parse.ts';
import { VolumeStore } from './store.ts';
import type { ContainerMount, Volume, VolumeRecord, VolumeService } from './types.ts';

/** dockerd's label on anonymous volumes (23.0+): prune leaves others alone. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const LIST_FILTERS = new Set(['dangling', 'driver', 'label', 'name']);

export interface VolumesDeps {
  db: Database;
  /** <data-root>/volumes */
  root: string;
  events: EventBus;
}

/** A new container's mounts, not yet recorded (see Volumes.prepare). */
export interface PreparedMounts {
  mounts: ContainerMount[];
  /** Volumes made for it: recorded with the container, or discarded. */
  created: VolumeRecord[];
}

export class Volumes implements VolumeService {
  readonly store: VolumeStore;

  constructor(private readonly deps: VolumesDeps) {
    this.store = new VolumeStore(deps.db);
  }

  private dataDir(name: string): string {
    return join(this.deps.root, name, '_data');
  }

  /** Resolves the mounts a create body asks for: makes missing `-v` bind
   * sources, checks `--mount` ones, makes the volume directories it needs.
   * Nothing is recorded until `record`, in the create's transaction. */
  async prepare(config: ContainerConfig, hc: HostConfig): Promise<PreparedMounts> {
    const requests = planMounts(config.Volumes, hc.Binds, hc.Mounts);
    const out: PreparedMounts = { mounts: [], created: [] };
    try {
      for (const r of requests) out.mounts.push(await this.resolve(r, out.created));
    } catch (e) {
      await this.discard(out);
      throw e;
    }
    return out;
  }

  private async resolve(r: MountRequest, created: VolumeRecord[]): Promise<ContainerMount> {
    switch (r.kind) {
      case 'bind':
        await this.bindSource(r.source, r.createSource);
        return { Type: 'bind', Source: r.source, Destination: r.destination, Mode: r.mode, RW: !r.readOnly, Propagation: r.propagation, ...(r.nonRecursive ? { NonRecursive: true } : {}) };
      case 'tmpfs':
        return { Type: 'tmpfs', Source: '', Destination: r.destination, Mode: '', RW: !r.readOnly, Propagation: '', TmpfsOptions: r.options };
      case 'volume': {
        const anonymous = r.name === undefined;
        let v = r.name === undefined ? undefined : (this.store.get(r.name) ?? created.find((x) => x.name === r.name));
        if (!v) {
          const name = r.name ?? randomBytes(32).toString('hex');
          v = {
            name,
            driver: 'local',
            mountpoint: this.dataDir(name),
            createdAt: new Date().toISOString(),
            labels: anonymous ? { [ANONYMOUS_LABEL]: '', ...r.labels } : r.labels,
            options: {},
            anonymous,
          };
          await mkdir(v.mountpoint, { recursive: true, mode: 0o755 });
          created.push(v);
        }
        return { Type: 'volume', Name: v.name, Source: v.mountpoint, Destination: r.destination, Driver: v.driver, Mode: r.mode, RW: !r.readOnly, Propagation: '', CopyData: r.copy, ...(anonymous ? { Anonymous: true } : {}) };
      }
    }
  }

  /** A bind source must exist: `-v` makes a missing one (a directory), as dockerd does; `--mount` refuses it. */
  private async bindSource(source: string, create: boolean): Promise<void> {
    try {
      await stat(source);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw invalid(`invalid mount config for type "bind": bind source path ${source}: ${(e as Error).message}`, e);
    }
    if (!create) throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
    await mkdir(source, { recursive: true, mode: 0o755 });
  }

  /** Records the container's mounts and the volumes made for it. Synchronous:
   * call it inside the transaction that inserts the container. */
  record(containerId: string, prepared: PreparedMounts): void {
    for (const v of prepared.created) if (!this.store.get(v.name)) this.store.insert(v);
    this.store.setMounts(containerId, prepared.mounts);
  }

  /** Undoes `prepare` after a failed create: removes the directories of the volumes it made. */
  async discard(prepared: PreparedMounts): Promise<void> {
    for (const v of prepared.created) {
      if (this.store.get(v.name)) continue; // someone else recorded it meanwhile
      await rm(join(this.deps.root, v.name), { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Publishes the create events of the volumes a container brought (after the create committed). */
  announce(prepared: PreparedMounts): void {
    for (const v of prepared.created) this.deps.events.publish({ Type: 'volume', Action: 'create', Actor: { ID: v.name, Attributes: { driver: v.driver } } });
  }

  /** Fills empty volumes from the image's content at their destination, as
   * dockerd does on first use: owner, mode and xattrs kept. `rootfs` is the
   * container's mounted rootfs. */
  async populate(mounts: ContainerMount[], rootfs: string): Promise<void> {
    for (const m of mounts) {
      if (m.Type !== 'volume' || !m.CopyData) continue;
      // Resolved with the rootfs as "/": an image's symlink cannot aim the copy at the host.
      const src = await resolveInRoot(rootfs, m.Destination);
      const st = await lstat(src).catch(() => undefined);
      if (!st?.isDirectory()) continue;
      if ((await readdir(m.Source)).length > 0) continue;
      await copyTree(src, m.Source);
    }
  }

  mountsOf(containerId: string): ContainerMount[] {
    return this.store.mountsOf(containerId);
  }

  /** After a container is gone (`rm -v`): removes the anonymous volumes it had, unless another container uses them now. */
  async removeAnonymous(mounts: ContainerMount[]): Promise<void> {
    for (const m of mounts) {
      if (m.Type !== 'volume' || !m.Anonymous || !m.Name) continue;
      const v = this.store.get(m.Name);
      if (!v?.anonymous || this.store.usersOf(v.name).length > 0) continue;
      await this.remove(v.name).catch((e) => log.warn('removing an anonymous volume failed', { volume: v.name, err: e }));
    }
  }

  private show(v: VolumeRecord): Volume {
    return { Name: v.name, Driver: v.driver, Mountpoint: v.mountpoint, CreatedAt: v.createdAt, Labels: v.labels, Scope: 'local', Options: Object.keys(v.options).length ? v.options : null };
  }

  async list(opts: { filters?: Filters } = {}): Promise<{ Volumes: Volume[]; Warnings: string[] }> {
    const f = checkFilterKeys(opts.filters, LIST_FILTERS);
    const dangling = f.dangling?.[0];
    if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) throw invalid(`invalid filter 'dangling=${dangling}'`);
    const vols = this.store.all().filter((v) => {
      if (f.name?.length && !f.name.some((n) => v.name.includes(n))) return false;
      if (f.driver?.length && !f.driver.includes(v.driver)) return false;
      if (f.label?.length && !f.label.every((l) => labelMatches(v.labels, l))) return false;
      if (dangling !== undefined && (this.store.usersOf(v.name).length === 0) !== (dangling === 'true' || dangling === '1')) return false;
      return true;
    });
    return { Volumes: vols.map((v) => this.show(v)), Warnings: [] };
  }

  async inspect(name: string): Promise<Volume> {
    const v = this.store.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return this.show(v);
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const v = this.store.get(name);
    if (!v) {
      if (opts.force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    if (v.driver !== 'local') throw notImplemented(`volume driver ${v.driver} is not supported`);
    this.deps.db.transaction(() => this.store.delete(name));
    await rm(join(this.deps.root, name), { recursive: true, force: true });
    this.deps.events.publish({ Type: 'volume', Action: 'destroy', Actor: { ID: name, Attributes: { driver: v.driver } } });
  }
}

/** What inspect and ps show of a container mount: Docker's fields only. */
export function mountPointOf(m: ContainerMount): MountPoint {
  return {
    Type: m.Type,
    ...(m.Type === 'volume' ? { Name: m.Name } : {}),
    Source: m.Source,
    Destination: m.Destination,
    ...(m.Type === 'volume' ? { Driver: m.Driver } : {}),
    Mode: m.Mode,
    RW: m.RW,
    Propagation: m.Propagation,
  };
}
