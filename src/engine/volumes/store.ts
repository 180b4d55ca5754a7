// Volume records and container mount rows in SQLite (metadata/schema.ts,
// migration 3). Synchronous, so callers can group writes in one transaction.
import { conflict } from '../../errdefs/index.ts';
import type { Database } from '../../metadata/db.ts';
import type { ContainerMount, VolumeRecord } from './types.ts';

interface VolumeRow {
  name: string;
  driver: string;
  mountpoint: string;
  labels: string;
  options: string;
  anonymous: number;
  created_at: string;
}

function fromRow(r: VolumeRow): VolumeRecord {
  return {
    name: r.name,
    driver: r.driver,
    mountpoint: r.mountpoint,
    labels: JSON.parse(r.labels),
    options: JSON.parse(r.options),
    anonymous: r.anonymous === 1,
    createdAt: r.created_at,
  };
}

export class VolumeStore {
  constructor(private readonly db: Database) {}

  insert(v: VolumeRecord): void {
    this.db.db
      .prepare('INSERT INTO volumes (name, driver, mountpoint, labels, options, anonymous, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(v.name, v.driver, v.mountpoint, JSON.stringify(v.labels), JSON.stringify(v.options), v.anonymous ? 1 : 0, v.createdAt);
  }

  get(name: string): VolumeRecord | undefined {
    const r = this.db.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as VolumeRow | undefined;
    return r && fromRow(r);
  }

  all(): VolumeRecord[] {
    return (this.db.db.prepare('SELECT * FROM volumes ORDER BY created_at, name').all() as VolumeRow[]).map(fromRow);
  }

  /** Deletes the record; a volume some container still refers to is a conflict. */
  delete(name: string): void {
    const users = this.usersOf(name);
    if (users.length > 0) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    this.db.db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
  }

  /** Ids of the containers that mount the volume. */
  usersOf(name: string): string[] {
    return (this.db.db.prepare('SELECT DISTINCT container_id FROM container_mounts WHERE volume = ? ORDER BY container_id').all(name) as { container_id: string }[]).map((r) => r.container_id);
  }

  /** Records a container's mounts; the container row must exist. */
  setMounts(containerId: string, mounts: ContainerMount[]): void {
    this.db.db.prepare('DELETE FROM container_mounts WHERE container_id = ?').run(containerId);
    const ins = this.db.db.prepare('INSERT INTO container_mounts (container_id, destination, type, volume, mount) VALUES (?, ?, ?, ?, ?)');
    for (const m of mounts) ins.run(containerId, m.Destination, m.Type, m.Type === 'volume' ? m.Name! : null, JSON.stringify(m));
  }

  mountsOf(containerId: string): ContainerMount[] {
    const rows = this.db.db.prepare('SELECT mount FROM container_mounts WHERE container_id = ? ORDER BY rowid').all(containerId) as { mount: string }[];
    return rows.map((r) => JSON.parse(r.mount) as ContainerMount);
  }
}
