// The quota backend seam. A backend turns an empty directory into an "area"
// that holds at most a limit: a container's snapshot directory (the overlay
// upperdir and workdir live inside it) or a sized volume's _data. Areas are
// named by an owner ("containers/<id>", "volumes/<name>") so that start-up can
// tell leftovers from live ones.
//
//   loop     a sparse ext4 image per area under <data-root>/quota, loop-mounted
//            on the directory; blocks and inodes; `df` inside shows the limit.
//   btrfs    a subvolume per area with a qgroup limit; blocks only; `df`
//            shows the whole filesystem.
//   project  XFS/ext4 project quota: a project id (with the inheritance
//            flag) on the directory and hard limits on that id; limits
//            change live both ways; activate/deactivate do nothing; owners()
//            reads the ids recorded under <data-root>/quota/project.
import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { QuotaLimit } from './limits.ts';

export type QuotaBackendKind = 'loop' | 'btrfs' | 'project';

export interface QuotaBackend {
  readonly kind: QuotaBackendKind;
  /** Whether a limit can carry an inode count. */
  readonly inodeLimits: boolean;
  /** Whether a limit can shrink in place. */
  readonly canShrink: boolean;
  /** The smallest limit it can give. */
  readonly minBytes: number;
  /** Makes the (empty or missing) directory `dir` an area limited to `limit`.
   * `projectId` (PouchContainer's QuotaID) is for the project backend only. */
  create(owner: string, dir: string, limit: QuotaLimit, opts?: { projectId?: number }): Promise<void>;
  /** Makes an existing area usable at `dir` (after a reboot the loop image is
   * mounted again); does nothing when it already is. */
  activate(owner: string, dir: string): Promise<void>;
  /** Lets go of what keeps the area open (the loop mount), keeping its data. */
  deactivate(owner: string, dir: string): Promise<void>;
  /** Changes the limit. `live`: the area is in use and must stay mounted;
   * otherwise the backend may take it down for the change and bring it back. */
  resize(owner: string, dir: string, limit: QuotaLimit, opts: { live: boolean }): Promise<void>;
  /** Deletes the area and its data; fine if it is already gone. */
  destroy(owner: string, dir: string): Promise<void>;
  /** The owners that have an area on disk (for the leftover sweep). */
  owners(): Promise<string[]>;
  /** The project id an owner's area has (the project backend only). */
  projectId?(owner: string): Promise<number | undefined>;
}

/** The owners ("<kind>/<name>") of the files `<root>/<kind>/<name><ext>` a
 * backend keeps per area (loop images, project id records), sorted; a kind
 * directory left empty goes. */
export async function ownersUnder(root: string, ext: string): Promise<string[]> {
  const out: string[] = [];
  for (const kind of await readdir(root).catch(() => [] as string[])) {
    const names = await readdir(join(root, kind)).catch(() => [] as string[]);
    for (const n of names) if (n.endsWith(ext)) out.push(`${kind}/${n.slice(0, -ext.length)}`);
    if (names.length === 0) await rmdir(join(root, kind)).catch(() => undefined);
  }
  return out.sort();
}
