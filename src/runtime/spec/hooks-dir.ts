// Daemon-wide hooks from --hooks-dir: the oci-hooks(5) JSON files (version
// 1.0.0) that Podman and CRI-O read too. Each file names one hook, the
// stages it runs at, and `when` it applies: `always`, or any of annotations
// (key and value regexes), commands (regexes on the process's args[0]) and
// hasBindMounts; the conditions are ORed, as the format says.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { invalid, messageOf } from '../../errdefs/index.ts';
import type { OciSpec } from '../types.ts';
import { HOOK_STAGES, checkHook, type HookStage, type OciHook, type OciHooks } from './hooks.ts';

export interface HookWhen {
  always?: boolean;
  annotations?: Array<{ key: RegExp; value: RegExp }>;
  commands?: RegExp[];
  hasBindMounts?: boolean;
}

export interface HookFile {
  /** The file it came from (for messages). */
  source: string;
  hook: OciHook;
  when: HookWhen;
  stages: HookStage[];
}

/** The facts of a container that `when` looks at. */
export interface HookSubject {
  annotations: Record<string, string>;
  /** The process's args[0]. */
  command: string;
  hasBindMounts: boolean;
}

/** Go's regexp is RE2; JavaScript's is a superset for what hook files use.
 * Anchors are the author's: "^/bin/sh$" matches only that path. */
function regex(s: unknown, where: string): RegExp {
  if (typeof s !== 'string') throw invalid(`${where}: expected a regular expression string`);
  try {
    return new RegExp(s);
  } catch (e) {
    throw invalid(`${where}: invalid regular expression ${JSON.stringify(s)}: ${messageOf(e)}`);
  }
}

/** One oci-hooks 1.0.0 file. Throws `invalid` naming the file and the field. */
export function parseHookFile(text: string, source: string): HookFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalid(`hook file ${source}: ${messageOf(e)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`hook file ${source}: expected a JSON object`);
  const o = raw as Record<string, unknown>;
  if (o.version !== '1.0.0') throw invalid(`hook file ${source}: unsupported version ${JSON.stringify(o.version)} (joey reads version "1.0.0")`);
  for (const k of Object.keys(o)) if (!['version', 'hook', 'when', 'stages'].includes(k)) throw invalid(`hook file ${source}: unknown field "${k}"`);
  const hook = checkHook(o.hook, `hook file ${source}: hook`);
  if (!Array.isArray(o.stages) || o.stages.length === 0) throw invalid(`hook file ${source}: stages must be a non-empty list`);
  const stages: HookStage[] = [];
  for (const s of o.stages) {
    if (!(HOOK_STAGES as readonly unknown[]).includes(s)) throw invalid(`hook file ${source}: unknown stage ${JSON.stringify(s)} (one of ${HOOK_STAGES.join(', ')})`);
    if (!stages.includes(s as HookStage)) stages.push(s as HookStage);
  }
  if (typeof o.when !== 'object' || o.when === null || Array.isArray(o.when)) throw invalid(`hook file ${source}: when is required (an object)`);
  const w = o.when as Record<string, unknown>;
  const when: HookWhen = {};
  for (const k of Object.keys(w)) if (!['always', 'annotations', 'commands', 'hasBindMounts'].includes(k)) throw invalid(`hook file ${source}: unknown condition when.${k}`);
  if (w.always !== undefined) {
    if (typeof w.always !== 'boolean') throw invalid(`hook file ${source}: when.always must be true or false`);
    when.always = w.always;
  }
  if (w.hasBindMounts !== undefined) {
    if (typeof w.hasBindMounts !== 'boolean') throw invalid(`hook file ${source}: when.hasBindMounts must be true or false`);
    when.hasBindMounts = w.hasBindMounts;
  }
  if (w.annotations !== undefined) {
    if (typeof w.annotations !== 'object' || w.annotations === null || Array.isArray(w.annotations)) throw invalid(`hook file ${source}: when.annotations must be an object of regular expressions`);
    when.annotations = Object.entries(w.annotations as Record<string, unknown>).map(([k, v]) => ({
      key: regex(k, `hook file ${source}: when.annotations key`),
      value: regex(v, `hook file ${source}: when.annotations[${JSON.stringify(k)}]`),
    }));
  }
  if (w.commands !== undefined) {
    if (!Array.isArray(w.commands)) throw invalid(`hook file ${source}: when.commands must be a list of regular expressions`);
    when.commands = w.commands.map((c, i) => regex(c, `hook file ${source}: when.commands[${i}]`));
  }
  if (!when.always && !when.annotations?.length && !when.commands?.length && !when.hasBindMounts) {
    throw invalid(`hook file ${source}: when has no condition (set always, annotations, commands or hasBindMounts)`);
  }
  return { source, hook, when, stages };
}

/** Whether a hook file applies to a container: any condition suffices. */
export function hookMatches(when: HookWhen, subject: HookSubject): boolean {
  if (when.always) return true;
  if (when.hasBindMounts && subject.hasBindMounts) return true;
  if (when.commands?.some((re) => re.test(subject.command))) return true;
  const ann = Object.entries(subject.annotations);
  return !!when.annotations?.some((c) => ann.some(([k, v]) => c.key.test(k) && c.value.test(v)));
}

/**
 * Reads the `*.json` files of the dirs, in name order; a file of the same name
 * in a later dir replaces the earlier one. A missing dir is none; a file that
 * does not parse is an error (joeyd refuses to start on it rather than run
 * containers without a hook someone relies on).
 */
export function loadHookDirs(dirs: string[], io: { readdir?: (d: string) => string[]; readFile?: (p: string) => string; isFile?: (p: string) => boolean } = {}): HookFile[] {
  const readdir = io.readdir ?? ((d: string) => readdirSync(d));
  const readFile = io.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const isFile = io.isFile ?? ((p: string) => statSync(p).isFile());
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw invalid(`hooks dir ${dir}: ${messageOf(e)}`, e);
    }
    for (const n of names) if (n.endsWith('.json') && isFile(join(dir, n))) byName.set(n, join(dir, n));
  }
  const out: HookFile[] = [];
  for (const name of [...byName.keys()].sort()) {
    const path = byName.get(name)!;
    let text: string;
    try {
      text = readFile(path);
    } catch (e) {
      throw invalid(`hook file ${path}: ${messageOf(e)}`, e);
    }
    out.push(parseHookFile(text, path));
  }
  return out;
}

/** The hooks of the files that apply, stage by stage, in file order. */
export function hooksFor(files: HookFile[], subject: HookSubject): OciHooks {
  const out: OciHooks = {};
  for (const f of files) {
    if (!hookMatches(f.when, subject)) continue;
    for (const s of f.stages) (out[s] ??= []).push({ ...f.hook });
  }
  return out;
}

/** What `when` needs from a built spec: its annotations and args[0];
 * `hasBindMounts` is the caller's (the user's binds, not the engine's own). */
export function subjectOf(spec: OciSpec, hasBindMounts: boolean): HookSubject {
  return { annotations: spec.annotations ?? {}, command: spec.process?.args[0] ?? '', hasBindMounts };
}
