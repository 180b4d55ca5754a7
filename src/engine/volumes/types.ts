// Volumes: what the volume service keeps and shows, and a container's
// resolved mounts (binds, volumes, tmpfs) as recorded at create.
import type { Filters } from '../../images/types.ts';
import type { MountPoint } from '../containers/types.ts';

/** A volume as stored (metadata/schema.ts, table volumes). */
export interface VolumeRecord {
  name: string;
  driver: string;
  /** Host path of the data directory (<data-root>/volumes/<name>/_data for local). */
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** Made for one container (image VOLUME, `-v /path`): `rm -v` removes it with the container. */
  anonymous: boolean;
}

/** Docker's Volume object (GET /volumes/{name}). */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** One mount of a container, resolved at create and kept with it: the Docker
 * MountPoint that inspect shows, plus what the runtime needs and inspect
 * does not show. */
export interface ContainerMount extends MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** bind: mount only the source, not the mounts below it (bind-nonrecursive). */
  NonRecursive?: boolean;
  /** volume: fill it from the image's content at the destination while it is empty. */
  CopyData?: boolean;
  /** tmpfs: mount options (size=, mode=, …). */
  TmpfsOptions?: string[];
  /** volume: made for this container only. */
  Anonymous?: boolean;
  /** volume: the directory of the volume mounted (`volume-subpath`). */
  Subpath?: string;
  /** bind: read-only all the way down (`bind-recursive=readonly`). */
  ReadOnlyForceRecursive?: boolean;
}

/** POST /volumes/create's body. */
export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface VolumePruneReport {
  VolumesDeleted: string[];
  SpaceReclaimed: number;
}

/** What the API adapters call for `docker volume …`. */
export interface VolumeService {
  /** Makes a volume; an existing one of that name is returned as it is. */
  create(req: VolumeCreateRequest): Promise<Volume>;
  /** Removes unused volumes: anonymous ones only unless `all` (API 1.42+). */
  prune(opts?: { filters?: Filters; all?: boolean }): Promise<VolumePruneReport>;
  list(opts?: { filters?: Filters }): Promise<{ Volumes: Volume[]; Warnings: string[] }>;
  inspect(name: string): Promise<Volume>;
  /** Refuses a volume in use (conflict) unless no container refers to it. */
  remove(name: string, opts?: { force?: boolean }): Promise<void>;
}
