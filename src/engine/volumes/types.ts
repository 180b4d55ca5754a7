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
}

/** What the API adapters call for `docker volume …`. */
export interface VolumeService {
  list(opts?: { filters?: Filters }): Promise<{ Volumes: Volume[]; Warnings: string[] }>;
  inspect(name: string): Promise<Volume>;
  /** Refuses a volume in use (conflict) unless no container refers to it. */
  remove(name: string, opts?: { force?: boolean }): Promise<void>;
}
