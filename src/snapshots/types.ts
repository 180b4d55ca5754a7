// Snapshots: overlay layer chains. A committed snapshot is one layer's diff
// directory; an active snapshot is an upper+work pair on top of a committed
// chain (a container's rootfs, or a layer being unpacked).

export type SnapshotKind = 'active' | 'view' | 'committed';

/** Label of an active snapshot that a layer is being unpacked into. `cleanup`
 * deletes such snapshots (a crash left them half-written); `commit` drops it. */
export const UNPACK_LABEL = 'joey.unpack';

export interface SnapshotInfo {
  key: string;
  parent?: string;
  kind: SnapshotKind;
  createdAt: Date;
  /** Bytes of the snapshot's own diff (set at commit for committed ones). */
  size: number;
  labels: Record<string, string>;
}

export interface Mount {
  type: string; // "overlay" or "bind"
  source: string;
  options: string[];
}

export interface Snapshotter {
  stat(key: string): Promise<SnapshotInfo>; // throws not-found
  /** Creates an active snapshot. `parent` must be committed. Throws already-exists. */
  prepare(key: string, parent?: string, opts?: { labels?: Record<string, string> }): Promise<Mount[]>;
  /** A read-only view of `parent`'s chain. */
  view(key: string, parent: string, opts?: { labels?: Record<string, string> }): Promise<Mount[]>;
  mounts(key: string): Promise<Mount[]>;
  /** Turns the active snapshot `key` into the committed snapshot `name`.
   * `parent` may be given here for a snapshot prepared without one: layers are
   * unpacked in parallel into parentless snapshots and chained at commit, in
   * order, so `parent` must then already be committed. */
  commit(name: string, key: string, opts?: { parent?: string; size?: number; labels?: Record<string, string> }): Promise<void>;
  /** Throws conflict when other snapshots have it as parent. */
  remove(key: string): Promise<void>;
  /** Gives the active snapshot `key` the name `newKey`; nothing moves on disk.
   * Synchronous on purpose: it is one metadata write, and a caller may run it
   * inside its own database transaction (as a savepoint) so that keys move
   * together with its own records (an upgrade swaps a container's rootfs so).
   * Throws not-found, already-exists, or failed-precondition for a snapshot
   * that is not active (committed keys are chain ids that images name). */
  rename(key: string, newKey: string): void;
  walk(): AsyncIterable<SnapshotInfo>;
  usage(key: string): Promise<{ size: number; inodes: number }>;
  /** Directory that receives an active snapshot's changes (overlay upperdir):
   * a layer is unpacked straight into it. */
  upperDir(key: string): Promise<string>;
  /** Start-up reconciliation: drops active snapshots left half-made by a
   * crash (those whose labels say so) and directories with no record. */
  cleanup(): Promise<void>;
  close(): Promise<void>;
}
