// The container's process: command line, environment, working directory and
// terminal, resolved from the image config and the create body as Docker does.
import { posix } from 'node:path';
import { failedPrecondition, invalid } from '../../errdefs/index.ts';
import type { ImageConfig } from '../../images/types.ts';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Where the init binary appears in the container, Docker's path. */
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

const nonEmpty = (a: string[] | null | undefined): a is string[] => Array.isArray(a) && a.length > 0;

/** Entrypoint + Cmd, as Docker merges them: a container Entrypoint replaces
 * the image's and drops the image's Cmd; an explicit empty Entrypoint ([] or
 * [""], `--entrypoint ""`) removes the image's but keeps its Cmd. */
export function resolveArgs(image: ImageConfig | undefined, config: ImageConfig): string[] {
  let entrypoint = config.Entrypoint;
  if (entrypoint?.length === 1 && entrypoint[0] === '') entrypoint = [];
  let cmd: string[];
  if (nonEmpty(entrypoint)) {
    cmd = config.Cmd ?? [];
  } else {
    cmd = nonEmpty(config.Cmd) ? config.Cmd : (image?.Cmd ?? []);
    if (entrypoint == null) entrypoint = image?.Entrypoint ?? [];
  }
  const args = [...(entrypoint ?? []), ...cmd];
  if (args.length === 0) throw invalid('No command specified');
  if (args[0] === '') throw invalid('No command specified: the command is an empty string');
  return args;
}

const keyOf = (kv: string): string => {
  const i = kv.indexOf('=');
  return i < 0 ? kv : kv.slice(0, i);
};

/** Docker's ReplaceOrAppendEnvValues: same key replaced in place, new keys
 * appended, a bare "KEY" (no "=") removes KEY. */
export function overlayEnv(base: string[], overrides: string[]): string[] {
  const out = [...base];
  for (const kv of overrides) {
    const key = keyOf(kv);
    const i = out.findIndex((e) => keyOf(e) === key);
    if (!kv.includes('=')) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

/** The environment: Docker's defaults (PATH, HOSTNAME, TERM with a tty)
 * overlaid by the container's env, which is its own env overlaid on the image's. */
export function resolveEnv(image: ImageConfig | undefined, config: ImageConfig, hostname: string): string[] {
  for (const kv of [...(image?.Env ?? []), ...(config.Env ?? [])]) {
    if (keyOf(kv) === '') throw invalid(`invalid environment variable: ${JSON.stringify(kv)}`);
    if (kv.includes('\0')) throw invalid(`invalid environment variable ${JSON.stringify(keyOf(kv))}: contains a NUL byte`);
  }
  const merged = overlayEnv(image?.Env ?? [], config.Env ?? []);
  const defaults = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`];
  if (config.Tty) defaults.push('TERM=xterm');
  return overlayEnv(defaults, merged);
}

export function resolveCwd(image: ImageConfig | undefined, config: ImageConfig): string {
  const wd = config.WorkingDir || image?.WorkingDir || '/';
  if (!wd.startsWith('/')) throw invalid(`the working directory '${wd}' is invalid, it needs to be an absolute path`);
  return posix.normalize(wd).replace(/(.)\/$/, '$1'); // dockerd cleans it
}

/** Prefixes the init when HostConfig.Init asks for one: it runs as PID 1,
 * reaps zombies and forwards signals. */
export function withInit(args: string[], init: boolean | null | undefined, initPath: string | undefined): string[] {
  if (!init) return args;
  if (!initPath) throw failedPrecondition('--init was requested but joeyd has no init binary configured (install catatonit or tini)');
  return [INIT_PATH_IN_CONTAINER, '--', ...args];
}
