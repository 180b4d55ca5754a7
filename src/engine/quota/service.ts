// Disk quotas for containers and volumes over one backend: what the container
// and volume services call. A container's rootfs area is its snapshot
// directory (the overlay upperdir and workdir are made inside the area); a
// volume's is its _data directory.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../../errdefs/index.ts';
import { realBtrfsSys } from '../../sys/quota/btrfs.ts';
import { filesystemType, mountOf, type FilesystemMount } from '../../sys/quota/fs-type.ts';
import { realLoopSys } from '../../sys/quota/loop.ts';
import { realProjectSys, type ProjectFsType } from '../../sys/quota/project.ts';
import { isMountPoint } from '../../sys/mount.ts';
import { log } from '../../util/log.ts';
import type { QuotaBackend, QuotaBackendKind } from './backend.ts';
import { BtrfsBackend } from './btrfs-backend.ts';
import { formatSize, type DiskQuotaPlan, type QuotaLimit } from './limits.ts';
import { LoopBackend } from './loop-backend.ts';
import { ProjectBackend } from './project-backend.ts';
import { backendFor } from './select.ts';

const containerOwner = (id: string): string => `containers/${id}`;
const volumeOwner = (name: string): string => `volumes/${name}`;

export class DiskQuotas {
  constructor(readonly backend: QuotaBackend) {}

  /** Refuses what the backend cannot give, before anything is made. */
  checkLimit(limit: QuotaLimit, where: string): void {
    if (limit.bytes < this.backend.minBytes) {
      throw invalid(`disk quota ${formatSize(limit.bytes)} for ${where} is too small: the ${this.backend.kind} backend needs at least ${formatSize(this.backend.minBytes)}`);
    }
    if (limit.inodes !== undefined && !this.backend.inodeLimits) {
      throw invalid(`disk quota for ${where} asks for an inode limit, which the ${this.backend.kind} backend cannot give (btrfs qgroups count bytes only)`);
    }
  }

  checkPlan(plan: DiskQuotaPlan): void {
    if (plan.rootfs) this.checkLimit(plan.rootfs, 'the rootfs');
    if (plan.each) this.checkLimit(plan.each, '.*');
    for (const [dest, l] of plan.mounts) this.checkLimit(l, dest);
  }

  /** `dir` is the container's snapshot directory, holding fs/ and work/ (still empty). */
  /** `projectId`: the container's QuotaID, for the project backend. */
  async limitRootfs(id: string, dir: string, limit: QuotaLimit, projectId?: number): Promise<void> {
    await rm(join(dir, 'fs'), { recursive: true, force: true });
    await rm(join(dir, 'work'), { recursive: true, force: true });
    await this.backend.create(containerOwner(id), dir, limit, projectId === undefined ? undefined : { projectId });
    await chmod(dir, 0o700);
    await mkdir(join(dir, 'fs'), { mode: 0o755 });
    await mkdir(join(dir, 'work'), { mode: 0o711 });
  }

  /** The project id of a container's rootfs area (PouchContainer's QuotaID),
   * as given or as allocated for "-1"; undefined on other backends. */
  async rootfsProjectId(id: string): Promise<number | undefined> {
    return this.backend.projectId?.(containerOwner(id));
  }

  activateRootfs(id: string, dir: string): Promise<void> {
    return this.backend.activate(containerOwner(id), dir);
  }

  resizeRootfs(id: string, dir: string, limit: QuotaLimit, opts: { live: boolean }): Promise<void> {
    return this.backend.resize(containerOwner(id), dir, limit, opts);
  }

  releaseRootfs(id: string, dir: string): Promise<void> {
    return this.backend.destroy(containerOwner(id), dir);
  }

  async createVolume(name: string, dir: string, limit: QuotaLimit): Promise<void> {
    this.checkLimit(limit, `volume ${name}`);
    await this.backend.create(volumeOwner(name), dir, limit);
    await chmod(dir, 0o755);
    // The backend keeps the area open only while a container holds the volume.
    await this.backend.deactivate(volumeOwner(name), dir);
  }

  activateVolume(name: string, dir: string): Promise<void> {
    return this.backend.activate(volumeOwner(name), dir);
  }

  deactivateVolume(name: string, dir: string): Promise<void> {
    return this.backend.deactivate(volumeOwner(name), dir);
  }

  removeVolume(name: string, dir: string): Promise<void> {
    return this.backend.destroy(volumeOwner(name), dir);
  }

  /** Start-up, after the containers and volumes are known: removes the areas
   * of containers and volumes that no longer exist (a kill -9 between a
   * record's delete and its area's). */
  async sweep(known: { containers: Set<string>; volumes: Set<string> }): Promise<string[]> {
    const removed: string[] = [];
    for (const owner of await this.backend.owners()) {
      const [kind, name] = owner.split('/') as [string, string];
      if (kind === 'containers' ? known.containers.has(name) : kind === 'volumes' ? known.volumes.has(name) : true) continue;
      log.info('removing the disk quota area of something that no longer exists', { owner });
      await this.backend.destroy(owner, '').catch((e) => log.warn('removing a disk quota leftover failed', { owner, err: e }));
      removed.push(owner);
    }
    return removed;
  }
}

/** The backend that fits the filesystem the data root sits on. */
export async function openDiskQuotas(dataRoot: string): Promise<DiskQuotas> {
  const fsType = await filesystemType(dataRoot);
  const mount = await mountOf(dataRoot);
  const kind = backendFor(fsType, mount?.fstype === fsType ? mount.options : []);
  const backend = openBackend(kind, dataRoot, mount);
  log.info('disk quota backend', { backend: backend.kind, filesystem: fsType, mountpoint: mount?.mountpoint });
  return new DiskQuotas(backend);
}

function openBackend(kind: QuotaBackendKind, dataRoot: string, mount: FilesystemMount | undefined): QuotaBackend {
  if (kind === 'btrfs') return new BtrfsBackend(dataRoot, realBtrfsSys);
  if (kind === 'project' && mount) {
    return new ProjectBackend({ root: join(dataRoot, 'quota', 'project'), fs: { type: mount.fstype as ProjectFsType, mountpoint: mount.mountpoint }, sys: realProjectSys });
  }
  return new LoopBackend({ root: join(dataRoot, 'quota'), sys: realLoopSys, isMountPoint });
}
