// What an upgraded container runs: its Config carried onto the new image.
// A value the container took from its old image follows the image (the new
// image's value); a value the user gave the container stays; an explicit
// Cmd or Entrypoint in the upgrade request wins over both.
import { isDeepStrictEqual } from 'node:util';
import { invalid } from '../../errdefs/index.ts';
import type { ImageConfig } from '../../images/types.ts';
import { mergeEnv } from './create.ts';
import type { ContainerConfig } from './types.ts';

export interface UpgradeRequest {
  /** The new image; the container's own reference when not given. */
  Image?: string;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  /** joey: carry the container's root filesystem changes onto the new image. */
  KeepRootfs?: boolean;
  /** joey: nanoseconds after the start during which an exit or an unhealthy
   * status rolls the upgrade back (0: only a failed start does). */
  RollbackWindow?: number;
}

/** The longest rollback window accepted: the API call waits it out. */
export const MAX_ROLLBACK_WINDOW_NS = 3600e9;

/** Checks a request's shape; throws invalid naming the field. */
export function validateUpgradeRequest(req: unknown): UpgradeRequest {
  if (req === null || req === undefined) return {};
  if (typeof req !== 'object' || Array.isArray(req)) throw invalid('upgrade: the body must be a JSON object');
  const r = req as Record<string, unknown>;
  if (r.Image !== undefined && r.Image !== null && (typeof r.Image !== 'string' || r.Image === '')) throw invalid('upgrade: Image must be a non-empty string');
  for (const k of ['Cmd', 'Entrypoint'] as const) {
    const v = r[k];
    if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) throw invalid(`upgrade: ${k} must be an array of strings`);
  }
  if (r.KeepRootfs !== undefined && r.KeepRootfs !== null && typeof r.KeepRootfs !== 'boolean') throw invalid('upgrade: KeepRootfs must be a boolean');
  const w = r.RollbackWindow;
  if (w !== undefined && w !== null && (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > MAX_ROLLBACK_WINDOW_NS)) {
    throw invalid(`upgrade: RollbackWindow must be a whole number of nanoseconds between 0 and ${MAX_ROLLBACK_WINDOW_NS} (1h), got ${JSON.stringify(w)}`);
  }
  return {
    ...(typeof r.Image === 'string' ? { Image: r.Image } : {}),
    ...(Array.isArray(r.Cmd) ? { Cmd: r.Cmd as string[] } : {}),
    ...(Array.isArray(r.Entrypoint) ? { Entrypoint: r.Entrypoint as string[] } : {}),
    KeepRootfs: r.KeepRootfs === true,
    RollbackWindow: typeof w === 'number' ? w : 0,
  };
}

const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a ?? null, b ?? null);

/** `own` when the user set it, else the new image's. */
function follow<T>(own: T, oldImage: T, newImage: T, fallback: T): T {
  return same(own, oldImage) ? (newImage ?? fallback) : own;
}

/** Entries of `merged` that `base` did not put there (same key and value). */
function ownEntries<V>(merged: Record<string, V> | undefined | null, base: Record<string, V> | undefined | null): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of Object.entries(merged ?? {})) if (!base || !(k in base) || !same(base[k], v)) out[k] = v;
  return out;
}

export function upgradeConfig(cur: ContainerConfig, oldImage: ImageConfig, newImage: ImageConfig, req: Pick<UpgradeRequest, 'Cmd' | 'Entrypoint'>): ContainerConfig {
  const entrypointGiven = req.Entrypoint !== undefined && req.Entrypoint !== null;
  const cmdGiven = req.Cmd !== undefined && req.Cmd !== null && req.Cmd.length > 0;
  const entrypoint = entrypointGiven ? (req.Entrypoint!.length ? req.Entrypoint! : null) : follow(cur.Entrypoint ?? null, oldImage.Entrypoint ?? null, newImage.Entrypoint ?? null, null);
  // As at create: an explicit entrypoint drops the image's command.
  const cmdFromImage = same(cur.Cmd, oldImage.Cmd);
  const cmd = cmdGiven ? req.Cmd! : cmdFromImage ? (entrypointGiven ? null : (newImage.Cmd ?? null)) : (cur.Cmd ?? null);
  const oldEnv = new Set(oldImage.Env ?? []);
  const userEnv = (cur.Env ?? []).filter((e) => !oldEnv.has(e));
  return {
    ...cur,
    Entrypoint: entrypoint,
    Cmd: cmd,
    Env: mergeEnv(newImage.Env ?? [], userEnv),
    User: follow(cur.User ?? '', oldImage.User ?? '', newImage.User ?? '', ''),
    WorkingDir: follow(cur.WorkingDir ?? '', oldImage.WorkingDir ?? '', newImage.WorkingDir ?? '', ''),
    Labels: { ...(newImage.Labels ?? {}), ...ownEntries(cur.Labels, oldImage.Labels) },
    ExposedPorts: { ...(newImage.ExposedPorts ?? {}), ...ownEntries(cur.ExposedPorts, oldImage.ExposedPorts) },
    Volumes: { ...(newImage.Volumes ?? {}), ...ownEntries(cur.Volumes, oldImage.Volumes) },
    StopSignal: follow(cur.StopSignal, oldImage.StopSignal, newImage.StopSignal, undefined),
    Healthcheck: follow(cur.Healthcheck, oldImage.Healthcheck, newImage.Healthcheck, undefined),
  };
}
