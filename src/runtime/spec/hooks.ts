// OCI hooks: the per-container ones (HostConfig.OciHooks, in the spec's own
// shape) and the daemon-wide ones (--hooks-dir, see hooks-dir.ts), checked and
// merged into the spec's `hooks`. runc runs them; joey only places them.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { invalid } from '../../errdefs/index.ts';
import type { OciSpec } from '../types.ts';

/** The stages of the OCI runtime spec (1.0.2), in the order runc meets them. */
export const HOOK_STAGES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookStage = (typeof HOOK_STAGES)[number];

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds; runc kills the hook after it. */
  timeout?: number;
}

export type OciHooks = Partial<Record<HookStage, OciHook[]>>;

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** One hook object, checked field by field; `where` names it in errors. */
export function checkHook(v: unknown, where: string): OciHook {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`invalid ${where}: expected an object {path, args, env, timeout}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['path', 'args', 'env', 'timeout'].includes(k)) throw invalid(`invalid ${where}: unknown field "${k}" (a hook has path, args, env, timeout)`);
  }
  if (typeof o.path !== 'string' || o.path === '') throw invalid(`invalid ${where}: path is required`);
  if (!isAbsolute(o.path)) throw invalid(`invalid ${where}: path ${JSON.stringify(o.path)} is not absolute`);
  const hook: OciHook = { path: o.path };
  if (o.args !== undefined && o.args !== null) {
    if (!isStrings(o.args)) throw invalid(`invalid ${where}: args must be a list of strings`);
    hook.args = o.args;
  }
  if (o.env !== undefined && o.env !== null) {
    if (!isStrings(o.env) || o.env.some((e) => !e.includes('='))) throw invalid(`invalid ${where}: env must be a list of KEY=value strings`);
    hook.env = o.env;
  }
  if (o.timeout !== undefined && o.timeout !== null) {
    if (!Number.isSafeInteger(o.timeout) || (o.timeout as number) <= 0) throw invalid(`invalid ${where}: timeout must be a positive number of seconds, got ${JSON.stringify(o.timeout)}`);
    hook.timeout = o.timeout as number;
  }
  return hook;
}

/** HostConfig.OciHooks as sent: stage names known, every hook well formed.
 * Empty stages are dropped; nothing left gives undefined. */
export function checkHooks(v: unknown, field = 'HostConfig.OciHooks'): OciHooks | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`invalid ${field}: expected an object of stages (${HOOK_STAGES.join(', ')})`);
  const out: OciHooks = {};
  for (const [stage, list] of Object.entries(v as Record<string, unknown>)) {
    if (!(HOOK_STAGES as readonly string[]).includes(stage)) throw invalid(`invalid ${field}: unknown hook stage "${stage}" (one of ${HOOK_STAGES.join(', ')})`);
    if (list === null) continue;
    if (!Array.isArray(list)) throw invalid(`invalid ${field}.${stage}: expected a list of hooks`);
    if (list.length) out[stage as HookStage] = list.map((h, i) => checkHook(h, `${field}.${stage}[${i}]`));
  }
  return Object.keys(out).length ? out : undefined;
}

/** Every hook's path is an executable regular file on the host (checked at
 * create, so that a typo fails there and not at each start). Not for
 * startContainer: runc runs those inside the container, so their paths name
 * files of the container's filesystem. */
export async function checkHookPaths(hooks: OciHooks | undefined, field = 'HostConfig.OciHooks'): Promise<void> {
  for (const stage of HOOK_STAGES) {
    if (stage === 'startContainer') continue;
    for (const [i, h] of (hooks?.[stage] ?? []).entries()) {
      const where = `${field}.${stage}[${i}]`;
      let st;
      try {
        st = await stat(h.path);
      } catch {
        throw invalid(`invalid ${where}: hook ${h.path} does not exist`);
      }
      if (!st.isFile()) throw invalid(`invalid ${where}: hook ${h.path} is not a regular file`);
      try {
        await access(h.path, constants.X_OK);
      } catch {
        throw invalid(`invalid ${where}: hook ${h.path} is not executable`);
      }
      // root passes access(X_OK) when any execute bit is set; none set means none.
      if ((st.mode & 0o111) === 0) throw invalid(`invalid ${where}: hook ${h.path} is not executable`);
    }
  }
}

/** Appends `extra`'s hooks to the spec's, stage by stage (the daemon's first,
 * then the container's, as the caller passes them). */
export function mergeHooks(spec: OciSpec, ...extra: Array<OciHooks | undefined>): void {
  const merged: Record<string, OciHook[]> = { ...(spec.hooks ?? {}) };
  for (const hooks of extra) {
    for (const stage of HOOK_STAGES) {
      const list = hooks?.[stage];
      if (list?.length) merged[stage] = [...(merged[stage] ?? []), ...list.map((h) => ({ ...h }))];
    }
  }
  if (Object.keys(merged).length) spec.hooks = merged;
}
