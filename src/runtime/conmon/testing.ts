// Fixtures for tests and the benchmark that run real conmon + runc (as root):
// a busybox-static rootfs, a minimal OCI spec, and a sandbox that removes every
// container, process, cgroup and directory it made, even after a failure.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeCgroup } from '../../sys/cgroups.ts';
import { isAlive } from '../../sys/proc.ts';
import type { ContainerPaths, OciSpec } from '../types.ts';
import { ConmonRuntime } from './runtime.ts';

export const RUNC = '/usr/sbin/runc';
export const CONMON = '/usr/bin/conmon';

const APPLETS = ['sh', 'cat', 'echo', 'true', 'false', 'sleep', 'stty', 'id', 'ls', 'head', 'dd', 'yes', 'printf'];

export function canRunContainers(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const f of ['/bin/busybox', RUNC, CONMON]) {
    try {
      execFileSync('test', ['-x', f]);
    } catch {
      return `${f} is not installed`;
    }
  }
  return undefined;
}

export function makeRootfs(dir: string): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(dir, 'bin', a));
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(dir, d), { recursive: true });
  return dir;
}

export interface SpecOptions {
  args: string[];
  rootfs: string;
  cgroupsPath: string;
  terminal?: boolean;
  memoryLimit?: number;
  env?: string[];
}

export function testSpec(o: SpecOptions): OciSpec {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const resources: Record<string, unknown> = { devices: [{ allow: false, access: 'rwm' }] };
  if (o.memoryLimit) resources['memory'] = { limit: o.memoryLimit };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: !!o.terminal,
      user: { uid: 0, gid: 0 },
      args: o.args,
      env: ['PATH=/bin', 'TERM=xterm', ...(o.env ?? [])],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: true,
    },
    root: { path: o.rootfs, readonly: false },
    hostname: 'joey-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      cgroupsPath: o.cgroupsPath,
      resources,
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/sys/firmware'],
      readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** A temp dir with a rootfs, a private runc root and a test-only cgroup parent. */
export class Sandbox {
  readonly dir: string;
  readonly rootfs: string;
  readonly runcRoot: string;
  readonly exitDir: string;
  readonly cgroupParent: string;
  readonly runtime: ConmonRuntime;
  private readonly ids = new Set<string>();
  private readonly pids = new Set<number>();

  constructor(tag = 'rt') {
    this.dir = mkdtempSync(join(tmpdir(), `joey-${tag}-`));
    this.rootfs = makeRootfs(join(this.dir, 'rootfs'));
    this.runcRoot = join(this.dir, 'runc');
    this.exitDir = join(this.dir, 'exits');
    mkdirSync(this.exitDir);
    this.cgroupParent = `/joey-${tag}-test-${process.pid}`;
    this.runtime = this.newRuntime();
  }

  newRuntime(): ConmonRuntime {
    return new ConmonRuntime({ name: 'runc', runtimePath: RUNC, runtimeRoot: this.runcRoot, conmonPath: CONMON });
  }

  /** Paths for a container, remembered for cleanup. */
  paths(id: string): ContainerPaths {
    this.ids.add(id);
    const c = join(this.dir, 'containers', id);
    return { bundle: join(c, 'bundle'), persistDir: join(c, 'persist'), exitDir: this.exitDir, logPath: join(c, 'ctr.log') };
  }

  spec(args: string[], o: Partial<SpecOptions> & { id: string }): OciSpec {
    return testSpec({ args, rootfs: this.rootfs, cgroupsPath: `${this.cgroupParent}/${o.id}`, ...o });
  }

  /** Remember a process (conmon) to kill at cleanup if it still runs. */
  track(pid: number): void {
    if (pid > 0) this.pids.add(pid);
  }

  async cleanup(): Promise<void> {
    for (const id of this.ids) {
      try {
        execFileSync(RUNC, ['--root', this.runcRoot, 'delete', '--force', id], { stdio: 'ignore' });
      } catch {
        // not there
      }
    }
    for (const pid of this.pids) {
      if (await isAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    // Let the killed conmons go before their cgroups and dirs.
    for (let i = 0; i < 50 && (await Promise.all([...this.pids].map((p) => isAlive(p)))).some(Boolean); i++) await new Promise((r) => setTimeout(r, 20));
    // A cgroup stays busy for a moment after its last process is reaped.
    for (let i = 0; i < 50; i++) {
      const { busy } = await removeCgroup(this.cgroupParent).catch(() => ({ busy: ['?'] }));
      if (busy.length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `fn` until it returns something other than undefined. */
export async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
