// Container records in SQLite. Every state change is written through, so a
// restarted daemon starts from what was true when it stopped.
import type { Database } from '../../metadata/db.ts';
import type { ContainerRecord } from './record.ts';

interface Row {
  id: string;
  name: string;
  image_id: string;
  image_ref: string;
  created_at: string;
  config: string;
  host_config: string;
  state: string;
  runtime: string;
  restart_count: number;
  monitor_pid: number | null;
  monitor_start: number | null;
  manually_stopped: number;
}

function fromRow(r: Row): ContainerRecord {
  return {
    id: r.id,
    name: r.name,
    imageId: r.image_id,
    imageRef: r.image_ref,
    createdAt: r.created_at,
    config: JSON.parse(r.config),
    hostConfig: JSON.parse(r.host_config),
    state: JSON.parse(r.state),
    runtime: r.runtime,
    restartCount: r.restart_count,
    monitorPid: r.monitor_pid,
    monitorStart: r.monitor_start,
    manuallyStopped: r.manually_stopped === 1,
  };
}

export class ContainerStore {
  constructor(private readonly db: Database) {}

  insert(c: ContainerRecord): void {
    this.db.db
      .prepare(
        `INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime, restart_count, monitor_pid, monitor_start, manually_stopped)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(c.id, c.name, c.imageId, c.imageRef, c.createdAt, JSON.stringify(c.config), JSON.stringify(c.hostConfig), JSON.stringify(c.state), c.runtime, c.restartCount, c.monitorPid, c.monitorStart, c.manuallyStopped ? 1 : 0);
  }

  /** Writes back everything that can change after create. */
  save(c: ContainerRecord): void {
    this.db.db
      .prepare(
        `UPDATE containers SET name = ?, config = ?, host_config = ?, state = ?, restart_count = ?, monitor_pid = ?, monitor_start = ?, manually_stopped = ? WHERE id = ?`,
      )
      .run(c.name, JSON.stringify(c.config), JSON.stringify(c.hostConfig), JSON.stringify(c.state), c.restartCount, c.monitorPid, c.monitorStart, c.manuallyStopped ? 1 : 0, c.id);
  }

  /** The image a container runs on: changed only by an upgrade (or its rollback). */
  setImage(id: string, imageId: string, imageRef: string): void {
    this.db.db.prepare('UPDATE containers SET image_id = ?, image_ref = ? WHERE id = ?').run(imageId, imageRef, id);
  }

  delete(id: string): void {
    this.db.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }

  get(id: string): ContainerRecord | undefined {
    const r = this.db.db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  all(): ContainerRecord[] {
    return (this.db.db.prepare('SELECT * FROM containers ORDER BY created_at DESC').all() as Row[]).map(fromRow);
  }

  /** Running containers with legacy links: filtered in SQLite, so a start
   * does not decode every record to find the few that link. */
  runningWithLinks(): ContainerRecord[] {
    return (
      this.db.db
        .prepare(
          `SELECT * FROM containers WHERE json_extract(state, '$.Running') = 1
             AND json_type(host_config, '$.Links') = 'array' AND json_array_length(host_config, '$.Links') > 0`,
        )
        .all() as Row[]
    ).map(fromRow);
  }

  nameTaken(name: string): string | undefined {
    return (this.db.db.prepare('SELECT id FROM containers WHERE name = ?').get(name) as { id: string } | undefined)?.id;
  }

  /** Containers that run on the image, or that an upgrade in progress may
   * bring (back) onto it. */
  usingImage(imageId: string): string[] {
    return (
      this.db.db
        .prepare('SELECT id FROM containers WHERE image_id = ? UNION SELECT container_id FROM container_upgrades WHERE outcome IS NULL AND (old_image_id = ? OR new_image_id = ?)')
        .all(imageId, imageId, imageId) as { id: string }[]
    ).map((r) => r.id);
  }
}
