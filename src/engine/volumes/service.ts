// The volume service: local volumes under <data-root>/volumes/<name>/_data,
// and the mounts of containers (binds, volumes, --mount tmpfs, --volumes-from)
// resolved at create. Anonymous volumes (image VOLUMEs, `-v /path`) are made
// here and go with their container on `rm -v`; a volume that any container
// refers to cannot be removed. A volume with driver options (`type`,
// `device`, `o`) is mounted on its _data directory while a running container
// uses it, as Docker's local driver does: the holders are kept in memory and
// rebuilt at start-up from the running containers.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, invalid, is, notFound, wrap } from '../../errdefs/index.ts';
import type { Filters } from '../../images/types.ts';
import type { Database } from '../../metadata/db.ts';
import { resolveInRoot } from '../../runtime/spec/rootfs-file.ts';
import { copyTree } from '../../sys/copy.ts';
import * as sysMount from '../../sys/mount.ts';
import { Mutex } from '../../util/concurrency.ts';
import { directorySize } from '../../util/dir-size.ts';
import { checkFilterKeys, labelMatches } from '../../util/filters.ts';
import { log } from '../../util/log.ts';
import type { EventBus } from '../types.ts';
import type { ContainerConfig, HostConfig, MountPoint } from '../containers/types.ts';
import { checkLocalOptions, checkVolumeName, planMounts, sizedVolumeLimit, type MountRequest } from './parse.ts';
import { formatSize, limitForMount, type DiskQuotaPlan } from '../quota/limits.ts';
import type { DiskQuotas } from '../quota/service.ts';
import { VolumeStore } from './store.ts';
import type { ContainerMount, Volume, VolumeCreateRequest, VolumePruneReport, VolumeRecord, VolumeService } from './types.ts';

/** dockerd's label on anonymous volumes (23.0+): prune leaves others alone. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const LIST_FILTERS = new Set(['dangling', 'driver', 'label', 'name']);
const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);

/** The privileged calls the service makes (sys/mount.ts, sys/copy.ts); a fake in unit tests. */
export interface VolumeSys {
  mount(m: sysMount.Mount, target: string): Promise<void>;
  unmount(target: string, opts?: { lazy?: boolean }): Promise<void>;
  isMountPoint(path: string): Promise<boolean>;
  mountsUnder(path: string): Promise<Array<{ target: string }>>;
  propagationOf(path: string): Promise<{ mountpoint: string; shared: boolean; slave: boolean }>;
  copyTree(src: string, dst: string): Promise<void>;
}

export const realVolumeSys: VolumeSys = {
  mount: sysMount.mount,
  unmount: sysMount.unmount,
  isMountPoint: sysMount.isMountPoint,
  mountsUnder: sysMount.mountsUnder,
  propagationOf: sysMount.propagationOf,
  copyTree,
};

export interface VolumesDeps {
  db: Database;
  /** <data-root>/volumes */
  root: string;
  events: EventBus;
  sys?: VolumeSys;
  /** The disk-quota backend for sized volumes (`-o size=`); without it they are refused. */
  quota?: DiskQuotas;
}

/** A new container's mounts, not yet recorded (see Volumes.prepare). */
export interface PreparedMounts {
  mounts: ContainerMount[];
  /** Volumes made for it: recorded with the container, or discarded. */
  created: VolumeRecord[];
}

/** The mounts of a container named in --volumes-from, with its mode. */
export interface InheritedMounts {
  mounts: ContainerMount[];
  /** "ro" makes them read-only; "rw" or "" keeps each as it is. */
  mode: string;
}

/** Docker's local driver mounts a volume whose options name a type or a
 * device; a sized volume's area is mounted (loop backend) the same way. */
export const needsMount = (v: Pick<VolumeRecord, 'options'>): boolean => v.options.type !== undefined || v.options.device !== undefined || isSized(v);
const isSized = (v: Pick<VolumeRecord, 'options'>): boolean => v.options.size !== undefined;

/** RFC 3339 to the second, as dockerd shows CreatedAt. */
const rfc3339 = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

export class Volumes implements VolumeService {
  readonly store: VolumeStore;
  private readonly sys: VolumeSys;
  /** Volume name → ids of the containers holding it mounted. */
  private readonly holders = new Map<string, Set<string>>();
  private readonly locks = new Map<string, Mutex>();
  private readonly createLock = new Mutex();

  constructor(private readonly deps: VolumesDeps) {
    this.store = new VolumeStore(deps.db);
    this.sys = deps.sys ?? realVolumeSys;
  }

  private dataDir(name: string): string {
    return join(this.deps.root, name, '_data');
  }

  private lockOf(name: string): Mutex {
    let m = this.locks.get(name);
    if (!m) this.locks.set(name, (m = new Mutex()));
    return m;
  }

  private newRecord(name: string, labels: Record<string, string>, options: Record<string, string>, anonymous: boolean): VolumeRecord {
    return { name, driver: 'local', mountpoint: this.dataDir(name), createdAt: new Date().toISOString(), labels, options, anonymous };
  }

  /** POST /volumes/create: an existing volume of that name is returned as it is, as dockerd does. */
  async create(req: VolumeCreateRequest): Promise<Volume> {
    const driver = req.Driver || 'local';
    if (driver !== 'local') throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const name = req.Name || randomBytes(32).toString('hex');
    checkVolumeName(name);
    const options = stringMap(req.DriverOpts, 'DriverOpts');
    const labels = stringMap(req.Labels, 'Labels');
    try {
      checkLocalOptions(options);
    } catch (e) {
      throw wrap(e, `create ${name}`);
    }
    return this.createLock.lock(async () => {
      const existing = this.store.get(name);
      if (existing) return this.show(existing);
      const v = this.newRecord(name, labels, options, false);
      // The directory first: start-up removes one without a record, never the reverse.
      await mkdir(v.mountpoint, { recursive: true, mode: 0o755 });
      if (isSized(v)) await this.makeSized(v);
      this.deps.db.transaction(() => this.store.insert(v));
      this.deps.events.publish({ Type: 'volume', Action: 'create', Actor: { ID: name, Attributes: { driver: v.driver } } });
      return this.show(v);
    });
  }

  /** A sized volume's area (its image or subvolume) on its _data directory. */
  private async makeSized(v: VolumeRecord): Promise<void> {
    const limit = sizedVolumeLimit(v.options)!;
    if (!this.deps.quota) throw invalid(`create ${v.name}: quota size requested but no quota support`);
    try {
      await this.deps.quota.createVolume(v.name, v.mountpoint, limit);
    } catch (e) {
      await rm(join(this.deps.root, v.name), { recursive: true, force: true }).catch(() => undefined);
      throw wrap(e, `create ${v.name}`);
    }
  }

  /** A create's --disk-quota on its volumes ("/data=5g", ".*=1g"): the
   * volumes it makes become sized ones; an existing volume must already have
   * that size; a bind or tmpfs cannot be limited by this backend. */
  async limitMounts(prepared: PreparedMounts, plan: DiskQuotaPlan): Promise<void> {
    for (const dest of plan.mounts.keys()) {
      const m = prepared.mounts.find((x) => x.Destination === dest);
      if (!m) throw invalid(`disk quota for ${dest}: no volume is mounted there`);
      if (m.Type !== 'volume') throw invalid(`disk quota for ${dest}: it is a ${m.Type} mount; only volumes can have a disk quota (a host directory would need project quota)`);
    }
    for (const m of prepared.mounts) {
      if (m.Type !== 'volume' || !m.Name) continue;
      const limit = limitForMount(plan, m.Destination);
      if (!limit) continue;
      const made = prepared.created.find((v) => v.name === m.Name);
      if (made) {
        made.options = { ...made.options, size: formatSize(limit.bytes), ...(limit.inodes ? { inodes: String(limit.inodes) } : {}) };
        if (made.options.type !== undefined || made.options.device !== undefined) throw invalid(`disk quota for ${m.Destination}: volume ${m.Name} has its own type/device`);
        await this.makeSized(made);
        continue;
      }
      const v = this.store.get(m.Name);
      const have = v ? sizedVolumeLimit(v.options) : undefined;
      if (!have) throw invalid(`disk quota for ${m.Destination}: volume ${m.Name} already exists without a size; create it with --opt size=${formatSize(limit.bytes)}`);
      if (have.bytes !== limit.bytes || have.inodes !== limit.inodes) throw invalid(`disk quota for ${m.Destination}: volume ${m.Name} already exists with size ${v!.options.size}`);
    }
  }

  /** Resolves the mounts a create body asks for: makes missing `-v` bind
   * sources, checks `--mount` ones, makes the volume directories it needs,
   * takes the mounts of --volumes-from containers where no bind or mount of
   * its own goes. Nothing is recorded until `record`, in the create's transaction. */
  async prepare(config: ContainerConfig, hc: HostConfig, inherited: InheritedMounts[] = []): Promise<PreparedMounts> {
    const from = new Map<string, ContainerMount>();
    for (const { mounts, mode } of inherited) {
      for (const m of mounts) {
        if (m.Type === 'tmpfs') continue; // not a mount point of Docker's: not shared
        from.set(m.Destination, { ...m, RW: m.RW && mode !== 'ro', CopyData: false });
      }
    }
    const requests = planMounts(config.Volumes, hc.Binds, hc.Mounts, from.keys());
    const own = new Set(requests.map((r) => r.destination));
    return this.resolveAll(requests, [...from.values()].filter((m) => !own.has(m.Destination)));
  }

  /** `kept` and the mounts `requests` resolve to; a failure undoes what was made. */
  private async resolveAll(requests: ReturnType<typeof planMounts>, kept: ContainerMount[]): Promise<PreparedMounts> {
    const out: PreparedMounts = { mounts: kept, created: [] };
    try {
      for (const r of requests) out.mounts.push(await this.resolve(r, out.created));
    } catch (e) {
      await this.discard(out);
      throw e;
    }
    return out;
  }

  /** An upgrade (containers/upgrade.ts): the container's mounts as they
   * are, plus an anonymous volume for each path of `volumes` (its Config.Volumes
   * on the new image) where it has no mount, made as a create of the new image
   * would make it. Nothing is recorded until `record`; `discard` undoes it. */
  async prepareAdded(volumes: ContainerConfig['Volumes'], existing: ContainerMount[]): Promise<PreparedMounts> {
    return this.resolveAll(planMounts(volumes, null, null, existing.map((m) => m.Destination)), [...existing]);
  }

  /** A rolled-back upgrade: the container's mounts of these volumes go, its
   * others stay. Synchronous: call it inside the rollback's transaction. */
  dropMounts(containerId: string, volumes: string[]): void {
    const drop = new Set(volumes);
    const mounts = this.store.mountsOf(containerId);
    const kept = mounts.filter((m) => !(m.Type === 'volume' && m.Name && drop.has(m.Name)));
    if (kept.length !== mounts.length) this.store.setMounts(containerId, kept);
  }

  private async resolve(r: MountRequest, created: VolumeRecord[]): Promise<ContainerMount> {
    switch (r.kind) {
      case 'bind':
        await this.bindSource(r.source, r.createSource);
        return {
          Type: 'bind', Source: r.source, Destination: r.destination, Mode: r.mode, RW: !r.readOnly, Propagation: r.propagation,
          ...(r.nonRecursive ? { NonRecursive: true } : {}),
          ...(r.readOnlyForceRecursive ? { ReadOnlyForceRecursive: true } : {}),
        };
      case 'tmpfs':
        return { Type: 'tmpfs', Source: '', Destination: r.destination, Mode: '', RW: !r.readOnly, Propagation: '', TmpfsOptions: r.options };
      case 'volume': {
        const anonymous = r.name === undefined;
        let v = r.name === undefined ? undefined : (this.store.get(r.name) ?? created.find((x) => x.name === r.name));
        if (!v) {
          const name = r.name ?? randomBytes(32).toString('hex');
          v = this.newRecord(name, anonymous ? { [ANONYMOUS_LABEL]: '', ...r.labels } : r.labels, r.driverOpts ?? {}, anonymous);
          await mkdir(v.mountpoint, { recursive: true, mode: 0o755 });
          created.push(v);
        }
        return {
          Type: 'volume', Name: v.name, Source: v.mountpoint, Destination: r.destination, Driver: v.driver, Mode: r.mode, RW: !r.readOnly, Propagation: '',
          CopyData: r.copy && !r.subpath,
          ...(anonymous ? { Anonymous: true } : {}),
          ...(r.subpath ? { Subpath: r.subpath } : {}),
        };
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
      if (isSized(v)) await this.deps.quota?.removeVolume(v.name, v.mountpoint).catch(() => undefined);
      await rm(join(this.deps.root, v.name), { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Publishes the create events of the volumes a container brought (after the create committed). */
  announce(prepared: PreparedMounts): void {
    for (const v of prepared.created) this.deps.events.publish({ Type: 'volume', Action: 'create', Actor: { ID: v.name, Attributes: { driver: v.driver } } });
  }

  /** Fills empty volumes from the image's content at their destination, as
   * dockerd does at create: owner, mode and xattrs kept. `rootfs` is the
   * container's mounted rootfs. A volume with driver options is mounted for
   * the copy and unmounted after it (so a tmpfs keeps nothing, as in Docker). */
  async populate(mounts: ContainerMount[], rootfs: string, containerId = 'populate', created: VolumeRecord[] = []): Promise<void> {
    for (const m of mounts) {
      if (m.Type !== 'volume' || !m.CopyData) continue;
      // Resolved with the rootfs as "/": an image's symlink cannot aim the copy at the host.
      const src = await resolveInRoot(rootfs, m.Destination);
      const st = await lstat(src).catch(() => undefined);
      if (!st?.isDirectory()) continue;
      const v = m.Name ? (this.store.get(m.Name) ?? created.find((x) => x.name === m.Name)) : undefined;
      const mountIt = !!v && needsMount(v);
      if (mountIt) await this.hold(v!, containerId);
      try {
        if ((await readdir(m.Source)).length > 0) continue;
        await this.sys.copyTree(src, m.Source);
      } finally {
        if (mountIt) await this.unhold(v!.name, containerId);
      }
    }
  }

  /** Before a container starts: mounts the volumes with driver options that
   * it uses, resolves volume subpaths, checks the sources of shared and
   * slave binds. Returns the mounts as the runtime must see them. */
  async acquire(containerId: string, mounts: ContainerMount[]): Promise<ContainerMount[]> {
    const out: ContainerMount[] = [];
    try {
      for (const m of mounts) {
        if (m.Type === 'bind') await this.checkPropagation(m);
        if (m.Type !== 'volume' || !m.Name) {
          out.push(m);
          continue;
        }
        const v = this.store.get(m.Name);
        if (!v) throw notFound(`get ${m.Name}: no such volume`);
        if (needsMount(v)) await this.hold(v, containerId);
        out.push(m.Subpath ? { ...m, Source: await this.subpathSource(v, m.Subpath) } : m);
      }
    } catch (e) {
      await this.release(containerId);
      throw e;
    }
    return out;
  }

  private async subpathSource(v: VolumeRecord, sub: string): Promise<string> {
    const p = await resolveInRoot(v.mountpoint, sub);
    try {
      await stat(p);
    } catch (e) {
      throw invalid(`cannot access path ${p}: ${(e as Error).message}`, e);
    }
    return p;
  }

  /** dockerd refuses a shared bind whose source is not on a shared mount
   * (and a slave one that is neither shared nor slave): it would not propagate. */
  private async checkPropagation(m: ContainerMount): Promise<void> {
    const p = m.Propagation;
    if (!['shared', 'rshared', 'slave', 'rslave'].includes(p)) return;
    const src = await this.sys.propagationOf(m.Source);
    if (p.endsWith('shared') && !src.shared) throw invalid(`path ${m.Source} is mounted on ${src.mountpoint} but it is not a shared mount`);
    if (p.endsWith('slave') && !src.shared && !src.slave) throw invalid(`path ${m.Source} is mounted on ${src.mountpoint} but it is not a shared or slave mount`);
  }

  /** After a container stopped (or failed to start, or went): unmounts the
   * volumes with driver options that no other running container holds. */
  async release(containerId: string): Promise<void> {
    for (const [name, ids] of [...this.holders]) if (ids.has(containerId)) await this.unhold(name, containerId);
  }

  /** Start-up: a container found running holds its volumes again. */
  adopt(containerId: string, mounts: ContainerMount[]): void {
    for (const m of mounts) {
      if (m.Type !== 'volume' || !m.Name) continue;
      const v = this.store.get(m.Name);
      if (!v || !needsMount(v)) continue;
      let ids = this.holders.get(v.name);
      if (!ids) this.holders.set(v.name, (ids = new Set()));
      ids.add(containerId);
    }
  }

  private hold(v: VolumeRecord, containerId: string): Promise<void> {
    return this.lockOf(v.name).lock(async () => {
      if (isSized(v)) {
        if (!this.deps.quota) throw invalid(`volume ${v.name} is sized but this daemon has no disk quota support`);
        await this.deps.quota.activateVolume(v.name, v.mountpoint);
      } else if (!(await this.sys.isMountPoint(v.mountpoint))) {
        await mkdir(v.mountpoint, { recursive: true, mode: 0o755 });
        const o = v.options;
        try {
          await this.sys.mount({ type: o.type ?? 'none', source: o.device ?? 'none', options: o.o ? o.o.split(',') : [] }, v.mountpoint);
        } catch (e) {
          throw wrap(e, `error while mounting volume '${v.mountpoint}': failed to mount local volume`);
        }
      }
      let ids = this.holders.get(v.name);
      if (!ids) this.holders.set(v.name, (ids = new Set()));
      ids.add(containerId);
    });
  }

  private unhold(name: string, containerId: string): Promise<void> {
    return this.lockOf(name).lock(async () => {
      const ids = this.holders.get(name);
      ids?.delete(containerId);
      if (ids && ids.size > 0) return;
      this.holders.delete(name);
      await this.unmountVolume(name);
    });
  }

  private async unmountVolume(name: string): Promise<void> {
    const dir = this.dataDir(name);
    const v = this.store.get(name);
    if (v && isSized(v)) {
      await this.deps.quota?.deactivateVolume(name, dir).catch((e) => log.warn('unmounting a sized volume failed', { volume: name, err: e }));
      return;
    }
    while (await this.sys.isMountPoint(dir)) {
      try {
        await this.sys.unmount(dir);
      } catch (e) {
        if (is(e, 'not-found')) break;
        log.warn('unmounting a volume failed; detaching it', { volume: name, err: e });
        await this.sys.unmount(dir, { lazy: true }).catch(() => undefined);
        break;
      }
    }
  }

  /** Start-up, after the containers were recovered: unmounts the volumes a
   * crash left mounted that no running container holds, and removes the
   * directories of volumes that were never recorded (a create cut short). */
  async reconcile(): Promise<void> {
    const known = new Set<string>();
    for (const v of this.store.all()) {
      known.add(v.name);
      if (!needsMount(v) || this.holders.has(v.name)) continue;
      await this.lockOf(v.name).lock(async () => {
        if (this.holders.has(v.name)) return;
        if (await this.sys.isMountPoint(v.mountpoint)) {
          log.info('unmounting a volume no running container uses', { volume: v.name });
          await this.unmountVolume(v.name);
        }
      });
    }
    let names: string[] = [];
    try {
      names = await readdir(this.deps.root);
    } catch {
      return;
    }
    for (const name of names) {
      if (known.has(name)) continue;
      const dir = join(this.deps.root, name);
      log.info('removing the directory of a volume with no record', { volume: name });
      for (const m of await this.sys.mountsUnder(dir).catch(() => [])) await this.sys.unmount(m.target, { lazy: true }).catch(() => undefined);
      if ((await this.sys.mountsUnder(dir).catch(() => [])).length) continue; // never delete through a mount
      await rm(dir, { recursive: true, force: true }).catch((e) => log.warn('removing a volume leftover failed', { volume: name, err: e }));
    }
  }

  mountsOf(containerId: string): ContainerMount[] {
    return this.store.mountsOf(containerId);
  }

  /** After a container is gone (`rm -v`): removes the anonymous volumes it had, unless another container uses them now. */
  async removeAnonymous(mounts: ContainerMount[]): Promise<void> {
    await this.removeUnusedAnonymous(mounts.flatMap((m) => (m.Type === 'volume' && m.Anonymous && m.Name ? [m.Name] : [])));
  }

  /** Removes those of these volumes that are anonymous and that no container
   * uses; gone ones are skipped, so a caller may repeat it. */
  async removeUnusedAnonymous(names: string[]): Promise<void> {
    for (const name of names) {
      const v = this.store.get(name);
      if (!v?.anonymous || this.store.usersOf(v.name).length > 0) continue;
      await this.remove(v.name).catch((e) => log.warn('removing an anonymous volume failed', { volume: v.name, err: e }));
    }
  }

  private show(v: VolumeRecord): Volume {
    return { CreatedAt: rfc3339(v.createdAt), Driver: v.driver, Labels: v.labels, Mountpoint: v.mountpoint, Name: v.name, Options: Object.keys(v.options).length ? v.options : null, Scope: 'local' };
  }

  async list(opts: { filters?: Filters } = {}): Promise<{ Volumes: Volume[]; Warnings: string[] }> {
    const f = checkFilterKeys(opts.filters, LIST_FILTERS);
    const dangling = f.dangling?.[0];
    if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) throw invalid(`invalid filter 'dangling=${dangling}'`);
    const vols = this.store.all().filter((v) => {
      if (f.name?.length && !f.name.some((n) => nameMatches(v.name, n))) return false;
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

  /** Refuses a volume any container refers to, running or not; `force` only
   * forgives a volume that does not exist, as with dockerd. */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const v = this.store.get(name);
    if (!v) {
      if (opts.force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    await this.lockOf(name).lock(async () => {
      const users = this.store.usersOf(name);
      if (users.length > 0) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      if (needsMount(v)) await this.unmountVolume(name);
      this.deps.db.transaction(() => this.store.delete(name));
      if (isSized(v)) await this.deps.quota?.removeVolume(name, v.mountpoint).catch((e) => log.warn('removing the area of a sized volume failed; start-up retries', { volume: name, err: e }));
      await rm(join(this.deps.root, name), { recursive: true, force: true });
    });
    this.locks.delete(name);
    this.deps.events.publish({ Type: 'volume', Action: 'destroy', Actor: { ID: name, Attributes: { driver: v.driver } } });
  }

  /** Removes the volumes no container refers to. From API 1.42 on only
   * anonymous ones unless `all` (the filter `all=true`), as dockerd 23+. */
  async prune(opts: { filters?: Filters; all?: boolean } = {}): Promise<VolumePruneReport> {
    const f = checkFilterKeys(opts.filters, PRUNE_FILTERS);
    const allFilter = f.all?.[0];
    if (allFilter !== undefined && !['true', 'false', '1', '0'].includes(allFilter)) throw invalid(`invalid filter 'all=${allFilter}'`);
    const all = allFilter !== undefined ? allFilter === 'true' || allFilter === '1' : !!opts.all;
    const report: VolumePruneReport = { VolumesDeleted: [], SpaceReclaimed: 0 };
    for (const v of this.store.all()) {
      if (!all && !(ANONYMOUS_LABEL in v.labels)) continue;
      if (f.label?.length && !f.label.every((l) => labelMatches(v.labels, l))) continue;
      if (f['label!']?.length && f['label!'].some((l) => labelMatches(v.labels, l))) continue;
      if (this.store.usersOf(v.name).length > 0) continue;
      const size = needsMount(v) ? 0 : await directorySize(v.mountpoint).catch(() => 0);
      try {
        await this.remove(v.name);
      } catch (e) {
        if (is(e, 'conflict') || is(e, 'not-found')) continue; // taken or removed meanwhile
        throw e;
      }
      report.VolumesDeleted.push(v.name);
      report.SpaceReclaimed += size;
    }
    this.deps.events.publish({ Type: 'volume', Action: 'prune', Actor: { ID: '', Attributes: { reclaimed: String(report.SpaceReclaimed) } } });
    return report;
  }
}

/** dockerd's filter match: the exact name, or a regular expression found in it. */
function nameMatches(name: string, pattern: string): boolean {
  if (name === pattern) return true;
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return name.includes(pattern);
  }
}

function stringMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${what} must be an object of strings`);
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') throw invalid(`${what}: the value of ${JSON.stringify(k)} must be a string`);
  return { ...(v as Record<string, string>) };
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
