// Upgrade records (metadata/schema.ts, table container_upgrades): the history
// inspect shows, and the in-progress marker that start-up finishes or rolls back.
import type { Database } from '../../metadata/db.ts';
import type { KeptAddresses } from '../networks/index.ts';
import type { ContainerConfig } from './types.ts';

export type UpgradePhase = 'prepared' | 'stopped' | 'swapped' | 'started' | 'done';
export type UpgradeOutcome = 'success' | 'rolled-back';

export interface UpgradeRecord {
  id: number;
  containerId: string;
  phase: UpgradePhase;
  outcome: UpgradeOutcome | null;
  startedAt: string;
  finishedAt: string | null;
  oldImageId: string;
  oldImageRef: string;
  newImageId: string;
  newImageRef: string;
  oldConfig: ContainerConfig;
  wasRunning: boolean;
  keepRootfs: boolean;
  addresses: KeptAddresses;
  error: string;
  /** The rollback window asked for, in ms (0: none). */
  rollbackWindowMs: number;
  /** When the new image started: the window runs from here (null before). */
  windowStartedAt: string | null;
  /** Anonymous volumes made for the new image's VOLUMEs; a rollback removes them. */
  addedVolumes: string[];
}

/** What inspect shows of one upgrade (joey's `UpgradeHistory`, oldest first). */
export interface UpgradeHistoryEntry {
  Started: string;
  Finished: string | null;
  PreviousImage: string;
  PreviousImageID: string;
  Image: string;
  ImageID: string;
  KeepRootfs: boolean;
  /** "in-progress", "success" or "rolled-back". */
  Outcome: string;
  Error?: string;
}

/** The new rootfs until the swap, and the old one after it. */
export const newRootfsKey = (id: string): string => `${id}.upgrade-new`;
export const oldRootfsKey = (id: string): string => `${id}.upgrade-old`;
export const UPGRADE_KEY_RE = /^([a-f0-9]{64})\.upgrade-(new|old)$/;

interface Row {
  id: number;
  container_id: string;
  phase: UpgradePhase;
  outcome: UpgradeOutcome | null;
  started_at: string;
  finished_at: string | null;
  old_image_id: string;
  old_image_ref: string;
  new_image_id: string;
  new_image_ref: string;
  old_config: string;
  was_running: number;
  keep_rootfs: number;
  addresses: string;
  error: string;
  rollback_window_ms: number;
  window_started_at: string | null;
  added_volumes: string;
}

function fromRow(r: Row): UpgradeRecord {
  return {
    id: r.id,
    containerId: r.container_id,
    phase: r.phase,
    outcome: r.outcome,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    oldImageId: r.old_image_id,
    oldImageRef: r.old_image_ref,
    newImageId: r.new_image_id,
    newImageRef: r.new_image_ref,
    oldConfig: JSON.parse(r.old_config),
    wasRunning: r.was_running === 1,
    keepRootfs: r.keep_rootfs === 1,
    addresses: JSON.parse(r.addresses),
    error: r.error,
    rollbackWindowMs: r.rollback_window_ms,
    windowStartedAt: r.window_started_at,
    addedVolumes: JSON.parse(r.added_volumes),
  };
}

export function historyEntry(u: UpgradeRecord): UpgradeHistoryEntry {
  return {
    Started: u.startedAt,
    Finished: u.finishedAt,
    PreviousImage: u.oldImageRef,
    PreviousImageID: u.oldImageId,
    Image: u.newImageRef,
    ImageID: u.newImageId,
    KeepRootfs: u.keepRootfs,
    Outcome: u.outcome ?? 'in-progress',
    ...(u.error ? { Error: u.error } : {}),
  };
}

export class UpgradeStore {
  constructor(private readonly db: Database) {}

  /** Records the marker; throws (SQLite unique) when one is in progress. */
  begin(u: Omit<UpgradeRecord, 'id' | 'outcome' | 'finishedAt' | 'error' | 'windowStartedAt' | 'addedVolumes'>): UpgradeRecord {
    const r = this.db.db
      .prepare(
        `INSERT INTO container_upgrades (container_id, phase, started_at, old_image_id, old_image_ref, new_image_id, new_image_ref, old_config, was_running, keep_rootfs, addresses, rollback_window_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(u.containerId, u.phase, u.startedAt, u.oldImageId, u.oldImageRef, u.newImageId, u.newImageRef, JSON.stringify(u.oldConfig), u.wasRunning ? 1 : 0, u.keepRootfs ? 1 : 0, JSON.stringify(u.addresses), u.rollbackWindowMs);
    return this.get(Number(r.lastInsertRowid))!;
  }

  get(id: number): UpgradeRecord | undefined {
    const r = this.db.db.prepare('SELECT * FROM container_upgrades WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  setPhase(id: number, phase: UpgradePhase): void {
    this.db.db.prepare('UPDATE container_upgrades SET phase = ? WHERE id = ?').run(phase, id);
  }

  /** The new image runs: phase `started`, and its rollback window opens at `at`. */
  started(id: number, at: string): void {
    this.db.db.prepare("UPDATE container_upgrades SET phase = 'started', window_started_at = ? WHERE id = ?").run(at, id);
  }

  /** Synchronous: inside the swap's transaction, with the volumes' records. */
  setAddedVolumes(id: number, names: string[]): void {
    this.db.db.prepare('UPDATE container_upgrades SET added_volumes = ? WHERE id = ?').run(JSON.stringify(names), id);
  }

  finish(id: number, outcome: UpgradeOutcome, error = ''): void {
    this.db.db.prepare("UPDATE container_upgrades SET phase = 'done', outcome = ?, error = ?, finished_at = ? WHERE id = ?").run(outcome, error, new Date().toISOString(), id);
  }

  inProgress(containerId?: string): UpgradeRecord[] {
    const rows = (containerId === undefined
      ? this.db.db.prepare('SELECT * FROM container_upgrades WHERE outcome IS NULL ORDER BY id').all()
      : this.db.db.prepare('SELECT * FROM container_upgrades WHERE outcome IS NULL AND container_id = ? ORDER BY id').all(containerId)) as Row[];
    return rows.map(fromRow);
  }

  history(containerId: string): UpgradeRecord[] {
    return (this.db.db.prepare('SELECT * FROM container_upgrades WHERE container_id = ? ORDER BY id').all(containerId) as Row[]).map(fromRow);
  }
}
