// A private daemon for container tests: a cgroup parent of its own
// (/joey-it-<pid>-<tag>), so that the host can read each container's cgroup
// files and nothing is left behind, and a teardown that removes containers,
// monitors, mounts and cgroups even when the daemon crashed or kept them alive.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach } from 'node:test';
import { TEST_ENGINE, startJoeyd, type Daemon, type DaemonOptions } from './daemon.ts';
import { removeCgroupTree } from './cgroups.ts';
import { orphansMentioning, pidAlive } from './host.ts';
import { run, waitFor } from './proc.ts';
import { createHash } from 'node:crypto';

export interface ContainerDaemon {
  d: Daemon;
  /** The daemon's --cgroup-parent, e.g. /joey-it-1234-main. */
  cgroupParent: string;
  /** The default bridge of a joeyd (its own, so that daemons side by side never share one). */
  bridge?: string;
}

export interface ContainerDaemonOptions extends DaemonOptions {
  /**
   * Containers must outlive the daemon (joeyd always does this; dockerd
   * needs --live-restore for it, which this adds for dockerd only).
   */
  liveRestore?: boolean;
}

/** Starts a daemon for container tests: insecure 127.0.0.0/8 registries and a private cgroup parent. */
export async function startContainerDaemon(tag: string, opts: ContainerDaemonOptions = {}): Promise<ContainerDaemon> {
  const cgroupParent = `/joey-it-${process.pid}-${tag}`;
  const engine = opts.engine ?? TEST_ENGINE;
  const named = (opts.args ?? []).some((a) => a === '--bridge' || a === '-b' || a.startsWith('--bridge='));
  const bridge = engine === 'joeyd' && !named ? `jt${createHash('sha256').update(cgroupParent).digest('hex').slice(0, 10)}` : undefined;
  const args = [
    ...(bridge ? ['--bridge', bridge] : []),
    '--insecure-registry', '127.0.0.0/8',
    '--cgroup-parent', cgroupParent,
    ...(opts.liveRestore && engine === 'dockerd' ? ['--live-restore'] : []),
    ...(opts.args ?? []),
  ];
  try {
    return { d: await startJoeyd({ ...opts, args }), cgroupParent, ...(bridge ? { bridge } : {}) };
  } catch (e) {
    await removeCgroupTree(cgroupParent);
    throw e;
  }
}

/** Every container, then every user network (they outlive a daemon, as
 * Docker's do); no-op if the daemon is down. */
export async function removeContainersAndNetworks(d: Daemon): Promise<void> {
  if (!d.running) return;
  await removeAllContainers(d).catch(() => undefined);
  const custom = (await d.docker(['network', 'ls', '-q', '--filter', 'type=custom'])).stdout.split('\n').filter(Boolean);
  if (custom.length) await d.docker(['network', 'rm', ...custom]);
}

/** `docker rm -f -v` of every container (no-op if the daemon is down). */
export async function removeAllContainers(d: Daemon): Promise<void> {
  if (!d.running) return;
  const ids = (await d.docker(['ps', '-aq', '--no-trunc'], { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
  if (ids.length) await d.docker(['rm', '-f', '-v', ...ids], { timeoutMs: 60_000 });
}

/**
 * Removes the iptables and ip6tables chains a joeyd made for `bridge` (`JOEY-<tag>-FWD` and
 * `-NAT`, every rule commented `joey <bridge> <subnet>`) and the jumps to
 * them. joeyd drops them itself at exit when none of its containers runs;
 * this is for a daemon that crashed or left containers behind.
 */
export async function removeBridgeRules(bridge: string): Promise<void> {
  for (const bin of ['iptables', 'ip6tables']) for (const [table, parent] of [['filter', 'FORWARD'], ['nat', 'POSTROUTING']] as const) {
    const lines = (await run(bin, ['-w', '-t', table, '-S'])).stdout.split('\n');
    const chains = new Set<string>();
    for (const l of lines) {
      const m = /^-A (JOEY-[0-9a-f]{10}-[A-Z]+) .*--comment "?joey (\S+) /.exec(l);
      if (m && m[2] === bridge) chains.add(m[1]!);
    }
    // The network's own chains first: the isolation chain is jumped to from
    // them, and cannot go while they do.
    for (const chain of [...chains].sort((a, b) => Number(a.endsWith('-ISO')) - Number(b.endsWith('-ISO')))) {
      if (chain.endsWith('-ISO')) {
        // The daemon's isolation chain, shared by its networks: only this
        // bridge's rule goes, and the chain with its jumps when it is empty.
        for (const l of lines) if (l.startsWith(`-A ${chain} `) && l.includes(`--comment "joey ${bridge} `)) await run('sh', ['-c', `${bin} -w -t ${table} ${l.replace(/^-A/, '-D')}`]);
        if (lines.some((l) => l.startsWith(`-A ${chain} `) && !l.includes(`--comment "joey ${bridge} `))) continue;
        for (const l of (await run(bin, ['-w', '-t', table, '-S'])).stdout.split('\n')) if (l.startsWith('-A ') && l.endsWith(`-j ${chain}`)) await run('sh', ['-c', `${bin} -w -t ${table} ${l.replace(/^-A/, '-D')}`]);
        await run(bin, ['-w', '-t', table, '-X', chain]);
        continue;
      }
      for (const l of lines) if (l.startsWith(`-A ${parent} `) && l.endsWith(`-j ${chain}`)) await run('sh', ['-c', `${bin} -w -t ${table} ${l.replace(/^-A/, '-D')}`]);
      await run(bin, ['-w', '-t', table, '-F', chain]);
      await run(bin, ['-w', '-t', table, '-X', chain]);
    }
  }
}

/**
 * Removes containers, stops the daemon, ends what it left running (container
 * processes in its cgroup parent; monitors under its exec root), unmounts and
 * removes its dirs (failing on leaked mounts, as `cleanup` does) and its cgroups.
 */
export async function teardownContainerDaemon(cd: ContainerDaemon | undefined): Promise<void> {
  if (!cd) return;
  const { d, cgroupParent } = cd;
  // User networks outlive their daemon (as Docker's): a test that failed
  // half-way must not leave their bridges on the host.
  await removeContainersAndNetworks(d).catch(() => undefined);
  await d.stop();
  const leftCgroups = await removeCgroupTree(cgroupParent);
  for (const o of await orphansMentioning(d.execRoot)) {
    try {
      process.kill(o.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await waitFor('monitors under the exec root to exit', async () => {
    for (const o of await orphansMentioning(d.execRoot)) if (await pidAlive(o.pid)) return false;
    return true;
  }, 10_000).catch(() => undefined);
  await d.cleanup();
  // The default bridge outlives its daemon, as docker0 does; a test daemon's goes.
  if (cd.bridge) {
    await run('ip', ['link', 'del', cd.bridge]);
    await removeBridgeRules(cd.bridge);
  }
  if (leftCgroups.length) throw new Error(`could not remove cgroups:\n${leftCgroups.join('\n')}`);
}

/**
 * A daemon for a group of tests: `image` pulled, every container removed
 * after each test (then `afterEach`, e.g. volumes), restarted if a test
 * crashed it, and torn down (containers, monitors, mounts, cgroups) after the
 * group (`beforeTeardown` first, with the daemon still up when it is).
 */
export function useContainerDaemon(
  tag: string,
  image: string | (() => string),
  opts: ContainerDaemonOptions & { afterEach?: (d: Daemon) => Promise<void>; beforeTeardown?: (d: Daemon) => Promise<void> } = {},
): () => ContainerDaemon {
  let cd: ContainerDaemon | undefined;
  before(async () => {
    cd = await startContainerDaemon(tag, opts);
    await cd.d.dockerOk(['pull', typeof image === 'function' ? image() : image], { timeoutMs: 60_000 });
  });
  beforeEach(async () => {
    if (cd && !cd.d.running) await cd.d.restart();
  });
  afterEach(async () => {
    if (!cd) return;
    await removeAllContainers(cd.d);
    await opts.afterEach?.(cd.d);
  });
  after(async () => {
    if (cd?.d.running) await opts.beforeTeardown?.(cd.d);
    await teardownContainerDaemon(cd);
  });
  return () => {
    assert.ok(cd, 'the daemon did not start');
    return cd;
  };
}
