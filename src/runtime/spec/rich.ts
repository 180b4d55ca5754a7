// Rich containers (PouchContainer's Rich, RichMode, InitScript): an init
// system as PID 1 with the user's command under it. This module is pure: it
// generates the files (inittab, systemd unit, environment scripts) and turns
// a built spec into a rich one; the engine reads the rootfs, writes the files
// on the host and hands their paths here (engine/containers/rich.ts).
//
// - dumb-init: a static init from the host (catatonit, tini-static) as PID 1,
//   read-only at /sbin/docker-init, reaping orphans and forwarding signals;
//   the image needs nothing.
// - sbin-init: the image's /sbin/init as PID 1; for busybox init joey binds a
//   generated /etc/inittab whose one `respawn` entry is the command, so init
//   supervises it (brings it back when it exits) as systemd's Restart=always
//   does. busybox init powers off on SIGUSR2 (SIGTERM would "reboot"; both run
//   the same shutdown: SIGTERM to all, SIGKILL a second later, then exit).
// - systemd: systemd as PID 1 with what it needs (container=oci, a cgroup
//   namespace, a writable /sys/fs/cgroup, tmpfs /run, /run/lock, /tmp,
//   SIGRTMIN+3 to halt); the command is joey-app.service in
//   /run/systemd/system, wanted by multi-user.target, Restart=always, its
//   output to the journal and the console. systemd points its own stdio at
//   /dev/null and writes to /dev/console, which only a terminal provides, so
//   a systemd container always has one (Config.Tty is set at create): conmon
//   logs the terminal, and `logs` shows systemd's messages and the command's.
//
// In every mode the container's environment is also written for login shells
// (/etc/profile.d/joey-env.sh, and /etc/profile when the image has none) and
// for PAM sessions such as sshd's (/etc/environment, the image's own lines kept).
import { invalid } from '../../errdefs/index.ts';
import type { ContainerConfig } from '../../engine/containers/types.ts';
import type { OciSpec } from '../types.ts';
import { INIT_PATH_IN_CONTAINER } from './process.ts';
import type { OciMount } from './types.ts';

export const RICH_MODES = ['dumb-init', 'sbin-init', 'systemd'] as const;
export type RichMode = (typeof RICH_MODES)[number];
export const DEFAULT_RICH_MODE: RichMode = 'dumb-init';

/** The systemd unit that runs the container's command. */
export const RICH_UNIT_NAME = 'joey-app.service';
/** Where the generated unit directory is bound (systemd's runtime unit dir). */
export const RICH_UNIT_DIR = '/run/systemd/system';
export const PROFILE_SCRIPT_PATH = '/etc/profile.d/joey-env.sh';

/** Checks Rich, RichMode and InitScript and fills RichMode's default, in place
 * (inspect shows it back, as PouchContainer does). */
export function normalizeRichConfig(config: ContainerConfig): void {
  const mode = config.RichMode ?? '';
  if (!config.Rich) {
    if (mode) throw invalid(`RichMode ${JSON.stringify(mode)} needs Rich: true (--rich)`);
    if (config.InitScript) throw invalid('InitScript needs Rich: true (--rich): the init script runs in rich mode only');
    return;
  }
  if (mode && !(RICH_MODES as readonly string[]).includes(mode)) {
    throw invalid(`invalid RichMode ${JSON.stringify(mode)}: expected one of ${RICH_MODES.join(', ')}`);
  }
  config.RichMode = (mode || DEFAULT_RICH_MODE) as RichMode;
  if (config.InitScript !== undefined && config.InitScript !== '' && !config.InitScript.startsWith('/')) {
    throw invalid(`invalid InitScript ${JSON.stringify(config.InitScript)}: it must be an absolute path in the container`);
  }
}

/** The rich mode of a container, or undefined when it is not rich. */
export function richModeOf(config: ContainerConfig): RichMode | undefined {
  if (!config.Rich) return undefined;
  const m = config.RichMode || DEFAULT_RICH_MODE;
  if (!(RICH_MODES as readonly string[]).includes(m)) throw invalid(`invalid RichMode ${JSON.stringify(m)}: expected one of ${RICH_MODES.join(', ')}`);
  return m as RichMode;
}

/** What PID 1 of a rich container wants as its stop signal, when neither the
 * user nor the image chose one; `initKind` says what /sbin/init is. */
export function richStopSignal(mode: RichMode, initKind: 'busybox' | 'systemd' | 'other' | 'missing'): string | undefined {
  if (mode === 'systemd') return 'SIGRTMIN+3';
  if (mode === 'sbin-init') {
    if (initKind === 'busybox') return 'SIGUSR2';
    if (initKind === 'systemd') return 'SIGRTMIN+3';
  }
  return undefined;
}

// ---- environment files ------------------------------------------------------

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Per-session variables a login sets itself. */
const SESSION_VARS = new Set(['HOME', 'HOSTNAME', 'TERM', 'PWD', 'OLDPWD', 'SHLVL', 'USER', 'LOGNAME', 'SHELL', 'container']);

function exportable(env: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const kv of env) {
    const i = kv.indexOf('=');
    if (i <= 0) continue;
    const k = kv.slice(0, i);
    if (!ENV_NAME.test(k) || SESSION_VARS.has(k)) continue;
    out.push([k, kv.slice(i + 1)]);
  }
  return out;
}

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** /etc/profile.d/joey-env.sh: `export K='V'` per variable. */
export function profileScript(env: string[]): string {
  const lines = ['# Written by joey at each start: the container\'s environment, for login shells.'];
  for (const [k, v] of exportable(env)) lines.push(`export ${k}=${shQuote(v)}`);
  return lines.join('\n') + '\n';
}

/** /etc/profile for images that have none (busybox): sources profile.d. */
export function fallbackProfile(): string {
  return [
    '# Written by joey: the image has no /etc/profile.',
    'for f in /etc/profile.d/*.sh; do',
    '  [ -r "$f" ] && . "$f"',
    'done',
    'unset f',
    '',
  ].join('\n');
}

/** /etc/environment as pam_env reads it (sshd and su sessions): the image's
 * lines for other variables, then the container's. Values with a newline or
 * a double quote cannot be written in that format and are left out. */
export function environmentFile(env: string[], existing = ''): string {
  const ours = exportable(env).filter(([, v]) => !/[\n"]/.test(v));
  const keys = new Set(ours.map(([k]) => k));
  const kept = existing.split('\n').filter((l) => {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(l);
    return l.trim() !== '' && !(m && keys.has(m[1]!));
  });
  return [...kept, ...ours.map(([k, v]) => `${k}="${v}"`)].join('\n') + '\n';
}

// ---- busybox init -------------------------------------------------------------

const PLAIN_WORD = /^[A-Za-z0-9_\/.,+@%:=-]+$/;

/** /etc/inittab for busybox init: the command as one `respawn` entry. Plain
 * words are run directly; anything else is shell-quoted, which busybox init
 * runs as `/bin/sh -c "exec …"`. */
export function inittab(args: string[]): string {
  if (args.length === 0) throw invalid('No command specified');
  if (args.some((a) => /[\n\r\0]/.test(a))) throw invalid('rich mode sbin-init: the command cannot hold a newline (it goes on one line of /etc/inittab)');
  const line = args.every((a) => PLAIN_WORD.test(a)) ? args.join(' ') : args.map(shQuote).join(' ');
  return [
    '# Written by joey: the container\'s command, supervised by init.',
    `::respawn:${line}`,
    '',
  ].join('\n');
}

// ---- systemd --------------------------------------------------------------------

/** A value in a unit file: specifiers (%) doubled. */
const unitValue = (s: string): string => s.replace(/%/g, '%%');

/** One ExecStart= word, double-quoted with C escapes; $ and % are literal. */
function execWord(s: string): string {
  const esc = s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
  return `"${unitValue(esc).replace(/\$/g, '$$$$')}"`;
}

function environmentLine(k: string, v: string): string {
  const esc = `${k}=${v}`.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `Environment="${unitValue(esc)}"`;
}

export interface UnitInput {
  /** The command, arg 0 an absolute path in the container. */
  args: string[];
  env: string[];
  cwd: string;
  /** Docker's User ("name", "uid", "name:group"); empty for root. */
  user?: string;
}

/** joey-app.service: the container's command as a service of its own. */
export function systemdUnit(input: UnitInput): string {
  if (!input.args[0]?.startsWith('/')) throw invalid(`the command of a systemd rich container must resolve to an absolute path, got ${JSON.stringify(input.args[0] ?? '')}`);
  const lines = [
    '# Written by joey at each start: the container\'s command.',
    '[Unit]',
    'Description=joey container command',
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${input.args.map(execWord).join(' ')}`,
    'Restart=always',
    'RestartSec=1',
    `WorkingDirectory=${unitValue(input.cwd || '/')}`,
    'StandardInput=null',
    // The console is the container's terminal, which conmon logs (systemd
    // points its own stdio at /dev/null).
    'StandardOutput=journal+console',
    'StandardError=inherit',
  ];
  for (const kv of input.env) {
    const i = kv.indexOf('=');
    if (i <= 0) continue;
    const k = kv.slice(0, i);
    if (k === 'container' || k === 'HOSTNAME') continue;
    lines.push(environmentLine(k, kv.slice(i + 1)));
  }
  const [user, group] = (input.user ?? '').split(':');
  if (user) lines.push(`User=${unitValue(user)}`);
  if (group) lines.push(`Group=${unitValue(group)}`);
  lines.push('');
  return lines.join('\n');
}

// ---- the spec -------------------------------------------------------------------

export interface RichSetup {
  mode: RichMode;
  /** dumb-init: the static init on the host. */
  initPath?: string;
  /** sbin-init and systemd: PID 1's command line in the container. */
  initArgs?: string[];
  /** Generated files and directories on the host, bound into the container. */
  binds: Array<{ source: string; destination: string; readonly: boolean }>;
}

const TMPFS_SYSTEMD: OciMount[] = [
  { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] },
  { destination: '/run/lock', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1777', 'size=5242880'] },
  { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
];

const under = (dest: string, dir: string): boolean => dest === dir || dest.startsWith(`${dir}/`);

/** Turns a built spec into the rich container's, in place. */
export function applyRich(spec: OciSpec, setup: RichSetup): void {
  const process = spec.process!;
  const mounts = (spec.mounts ??= []);
  if (setup.mode === 'dumb-init') {
    if (!setup.initPath) throw invalid('rich mode dumb-init needs a static init on the host (install catatonit or tini)');
    if (process.args[0] !== INIT_PATH_IN_CONTAINER) process.args = [INIT_PATH_IN_CONTAINER, '--', ...process.args];
    if (!mounts.some((m) => m.destination === INIT_PATH_IN_CONTAINER)) {
      mounts.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: setup.initPath, options: ['bind', 'ro'] });
    }
  } else {
    if (!setup.initArgs?.length) throw invalid(`rich mode ${setup.mode}: no init to run`);
    process.args = [...setup.initArgs];
  }
  if (setup.mode === 'systemd') {
    if (!process.env.some((e) => e.startsWith('container='))) process.env.push('container=oci');
    const linux = (spec.linux ??= {});
    const ns = (linux.namespaces ??= []) as Array<{ type: string; path?: string }>;
    if (!ns.some((n) => n.type === 'cgroup')) ns.push({ type: 'cgroup' });
    for (const m of mounts) {
      if (m.destination === '/sys/fs/cgroup') m.options = (m.options ?? []).filter((o) => o !== 'ro');
    }
    // The tmpfs go before any mount below them (a user's -v /x:/run/y stays visible).
    for (const t of TMPFS_SYSTEMD) {
      if (mounts.some((m) => m.destination === t.destination)) continue;
      const at = mounts.findIndex((m) => under(m.destination, t.destination));
      mounts.splice(at < 0 ? mounts.length : at, 0, { ...t, options: [...t.options!] });
    }
  }
  for (const b of setup.binds) {
    mounts.push({ destination: b.destination, type: 'bind', source: b.source, options: ['rbind', 'rprivate', ...(b.readonly ? ['ro'] : [])] });
  }
}
