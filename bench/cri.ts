// CRI benchmark: the Kubernetes pod lifecycle over the CRI (runtime.v1,
// gRPC on a unix socket), joeyd --cri beside containerd 1.6's CRI plugin, in
// one run, driven by the same client (src/api/cri/client.ts, as
// test/cri.test.ts): RunPodSandbox; CreateContainer + StartContainer of a
// busybox `sleep 3600`; ExecSync `true`; StopPodSandbox + RemovePodSandbox;
// the whole cycle; and N pods started at once, then removed at once.
// Medians, min and max over rounds, the ratio joeyd/containerd. See
// bench/README.md.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, rmdir, unlink } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectCri, type CriClient } from '../src/api/cri/client.ts';
import { pauseArchive, startCriTarget, type CriTarget, type CriTargetName } from '../test/lib/cri.ts';
import { cgroupDirsUnder, removeCgroupTree } from '../test/lib/cgroups.ts';
import { removeBridgeRules } from '../test/lib/containers.ts';
import { parseOptions } from './lib/args.ts';
import { mountsUnder, removeTree, withTmpfsOver } from './lib/fsutil.ts';
import { ensureBusyboxImage } from './lib/images.ts';
import { excerpt, installSignalCleanup, onCleanup, run, runCleanups, runOk } from './lib/proc.ts';
import { describeMachine, formatTable, median, round2, versionOf } from './lib/stats.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (s: string): void => void process.stderr.write(s + '\n');

const USAGE = `Usage: sudo bench/cri [--rounds N] [--batch-rounds N] [--pods N] [--engines joeyd,containerd] [--out FILE]

The Kubernetes pod lifecycle over the CRI, joeyd --cri beside containerd 1.6's
CRI plugin: RunPodSandbox, CreateContainer + StartContainer (busybox sleep
3600), ExecSync true, StopPodSandbox + RemovePodSandbox, the whole cycle
(--rounds, default 10), and --pods pods (default 10) started at once, then
removed at once (--batch-rounds, default 3). One untimed warm-up of each first.`;

const IMAGE = 'joey.local/bench/busybox:latest';
/** containerd 1.6's warnings on every shim exit (the shim's own info line passed on; its disconnect after a delete): not reported. */
const CONTAINERD_ROUTINE = /msg="cleanup warnings time=\S+ level=info msg=\\"starting signal loop\\"|msg="cleaning up after shim disconnected"/;

type Phase = 'run' | 'start' | 'exec' | 'remove' | 'stopOnly' | 'removeOnly' | 'cycle' | 'batchStart' | 'batchRemove';
const CYCLE_PHASES: Phase[] = ['run', 'start', 'exec', 'remove', 'stopOnly', 'removeOnly', 'cycle'];

interface EngineState {
  name: CriTargetName;
  target?: CriTarget;
  cri?: CriClient;
  octet: number;
  tag: string;
  cgroupParent: string;
  /** sandboxes made and not yet removed (for the sweep after an error) */
  pods: Set<string>;
  /** every sandbox id it made (to find libcni cache files left for them) */
  allPods: string[];
  ms: Record<Phase, number[]>;
  load: Record<Phase, number[]>;
  failed?: string;
  /** untimed, from the warm-up: the pod's address and the container's state */
  checked?: string;
  leaks: string[];
  runtime?: string;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
/** where the pods' log directories go (kubelet's /var/log/pods), in the work directory */
let logRoot = '';
/** set on a signal: the loops stop (the cleanup stack is already running) */
let stopping = false;

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), { rounds: 'int', 'batch-rounds': 'int', pods: 'int', engines: 'list', out: 'string' }, USAGE);
  const rounds = (o.get('rounds') as number | undefined) ?? 10;
  const batchRounds = (o.get('batch-rounds') as number | undefined) ?? 3;
  const podsAtOnce = (o.get('pods') as number | undefined) ?? 10;
  if (podsAtOnce > 200) throw new Error('--pods: at most 200 (one /24 per engine)');
  const names = (o.get('engines') as string[] | undefined) ?? ['joeyd', 'containerd'];
  for (const n of names) if (n !== 'joeyd' && n !== 'containerd') throw new Error(`unknown engine ${n} (joeyd, containerd)`);
  if (process.getuid?.() !== 0) throw new Error('bench/cri needs root (it starts joeyd and containerd)');
  if (!readdirSafe(join(repoRoot, 'dist')).includes('joeyd.mjs')) throw new Error('joeyd is not built: run `make build`');

  installSignalCleanup();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void (stopping = true));
  const dir = mkdtempSync(join(process.env['JOEY_BENCH_TMP'] || '/tmp', 'jbc-'));
  onCleanup('work dir', () => removeTree(dir));
  logRoot = join(dir, 'pods');
  const cgroupRoot = `/joey-bench-${process.pid}`;
  const cgroupsLeft: string[] = [];
  onCleanup('cgroups', async () => {
    cgroupsLeft.push(...(await removeCgroupTree(cgroupRoot)));
  });
  const machine = await describeMachine(dir);
  const versions = {
    joeyd: await versionOf([process.execPath, join(repoRoot, 'bin/joeyd'), '--version']),
    containerd: await versionOf(['containerd', '--version']),
    runc: await versionOf(['runc', '--version']),
    conmon: await versionOf(['conmon', '--version']),
    cniPlugins: (await run(['dpkg-query', '-W', '-f', '${Version}', 'containernetworking-plugins'])).stdout.trim() || 'unknown',
    node: process.version,
  };

  // ---- the images, as docker-archives: busybox (both), joey-pause (containerd) ----
  const bb = await ensureBusyboxImage(log);
  const busyboxTar = join(dir, 'busybox.tar');
  await skopeoToArchive(`oci:${bb.dir}:${bb.tag}`, busyboxTar, IMAGE, dir);
  const pauseTar = names.includes('containerd') ? await pauseArchive(dir) : '';

  // ---- the host state this run may change, put back at the end ----------
  const ipForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const cniCache = '/var/lib/cni/results';
  const cniCacheBefore = new Set(readdirSafe(cniCache));
  const engines: EngineState[] = [];
  const cniCacheLeft: string[] = [];
  // registered before the engines: runs after they are torn down
  onCleanup('host state', async () => {
    if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== ipForward) writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForward);
    // libcni's result cache (containerd's go-cni uses the default,
    // /var/lib/cni): files for our sandboxes, if any outlived their DEL
    const ours = engines.flatMap((e) => e.allPods);
    for (const f of readdirSafe(cniCache)) {
      if (cniCacheBefore.has(f) || !ours.some((id) => f.includes(id))) continue;
      cniCacheLeft.push(f);
      await removeTree(join(cniCache, f));
    }
  });

  // ---- the engines: private dirs, sockets, bridges and /24s -------------
  const octets = await freeOctets(names.length);
  const tagBase = (process.pid % 100000).toString(36);
  names.forEach((n, i) =>
    engines.push({
      name: n as CriTargetName,
      octet: octets[i] ?? 0,
      tag: `b${tagBase}${i}`,
      cgroupParent: `${cgroupRoot}/${n}`,
      pods: new Set(),
      allPods: [],
      ms: { run: [], start: [], exec: [], remove: [], stopOnly: [], removeOnly: [], cycle: [], batchStart: [], batchRemove: [] },
      load: { run: [], start: [], exec: [], remove: [], stopOnly: [], removeOnly: [], cycle: [], batchStart: [], batchRemove: [] },
      leaks: [],
    }),
  );
  for (const e of engines) {
    if (stopping) break;
    try {
      const t0 = Date.now();
      const target = await startCriTarget({ target: e.name, tag: e.tag, octet: e.octet, insecureRegistries: [], cni: { portmap: false, hairpinMode: true } });
      e.target = target;
      onCleanup(`engine ${e.name}`, async () => {
        if (e.cri) await sweep(e).catch(() => undefined);
        e.cri?.close();
        // What the sweep could not remove (the server died: a Ctrl-C on the
        // terminal reaches it too) is killed first, so that its mounts are
        // not busy when the teardown unmounts them.
        const stuck = await removeCgroupTree(e.cgroupParent);
        if (stuck.length) e.leaks.push(...stuck.map((c) => `cgroup ${c}`));
        e.leaks.push(...(await target.teardown().catch((err: unknown) => [`teardown: ${excerpt((err as Error).message, 300)}`])));
        // The teardown stops at its first error (joeyd's: mounts it had to
        // force off), before the bridge and joeyd's iptables chains: again
        // here (no-ops when done).
        if (readdirSafe('/sys/class/net').includes(target.bridge)) await run(['ip', 'link', 'del', target.bridge]);
        if (e.name === 'joeyd') await removeBridgeRules(target.bridge);
        if (e.name === 'containerd') e.leaks.push(...(await removeShimSockets(target.socket, e.allPods)));
        if (stopping && e.leaks.length) log(`warning: ${e.name} left: ${e.leaks.join(', ')}`);
      });
      await target.loadImage(busyboxTar);
      if (e.name === 'containerd') await target.loadImage(pauseTar);
      e.cri = await connectCri(target.socket);
      const v = await e.cri.runtime('Version', { version: 'v1' });
      e.runtime = `${v.runtime_name} ${v.runtime_version}`;
      const st = await e.cri.runtime('Status', {});
      const notReady = (st.status.conditions as Array<{ type: string; status: boolean; message?: string }>).filter((c) => !c.status);
      if (notReady.length) throw new Error(`not ready: ${notReady.map((c) => `${c.type} ${c.message ?? ''}`).join(', ')}`);
      log(`${e.name}: ${e.runtime}, CRI on ${target.socket}, bridge ${target.bridge}, pods in ${target.subnetPrefix}0/24 (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    } catch (err) {
      e.failed = `start: ${(err as Error).message}`;
      log(`${e.name}: failed (${excerpt(e.failed, 500)})`);
    }
  }

  // ---- warm-up: one cycle and one batch each, untimed, with the checks ----
  for (const e of engines.filter((x) => !x.failed)) {
    if (stopping) break;
    try {
      const c = await cycle(e, 'warmup', true);
      await nothingLeft(e);
      const b = await batch(e, podsAtOnce, 'warmup');
      await nothingLeft(e);
      log(`warm-up  ${e.name.padEnd(10)} cycle ${c.cycle.toFixed(0)} ms, ${podsAtOnce} pods ${b.batchStart.toFixed(0)} + ${b.batchRemove.toFixed(0)} ms; ${e.checked}`);
    } catch (err) {
      e.failed = `warm-up: ${(err as Error).message}`;
      log(`warm-up  ${e.name} failed (${excerpt(e.failed, 500)})`);
      await sweep(e).catch(() => undefined);
    }
  }

  const timed = async (e: EngineState, what: string, fn: () => Promise<Partial<Record<Phase, number>>>): Promise<string> => {
    if (e.failed || stopping) return '';
    const load = round2(loadavg()[0] ?? 0);
    try {
      const r = await fn();
      await nothingLeft(e);
      for (const [p, v] of Object.entries(r) as Array<[Phase, number]>) {
        e.ms[p].push(v);
        e.load[p].push(load);
      }
      return `${e.name} ${(r.cycle ?? r.batchStart ?? 0).toFixed(0)}${r.batchRemove !== undefined ? `+${r.batchRemove.toFixed(0)}` : ''}`;
    } catch (err) {
      e.failed = `${what}: ${(err as Error).message}`;
      log(`${what}: ${e.name} failed (${excerpt(e.failed, 500)})`);
      await sweep(e).catch(() => undefined);
      return '';
    }
  };

  // ---- timed: cycles, then batches; round-robin, the order rotated -------
  for (let round = 0; round < rounds && !stopping; round++) {
    const order = engines.map((_e, i) => engines[(i + round) % engines.length]).filter((e): e is EngineState => !!e);
    const line: string[] = [];
    for (const e of order) line.push(await timed(e, `cycle ${round + 1}`, () => cycle(e, `r${round + 1}`, false)));
    log(`cycle ${round + 1}/${rounds} (load ${round2(loadavg()[0] ?? 0)}): ${line.filter(Boolean).join(', ')} ms`);
  }
  for (let round = 0; round < batchRounds && !stopping; round++) {
    const order = engines.map((_e, i) => engines[(i + round) % engines.length]).filter((e): e is EngineState => !!e);
    const line: string[] = [];
    for (const e of order) line.push(await timed(e, `batch ${round + 1}`, () => batch(e, podsAtOnce, `b${round + 1}`)));
    log(`${podsAtOnce} pods at once ${round + 1}/${batchRounds} (load ${round2(loadavg()[0] ?? 0)}): ${line.filter(Boolean).join(', ')} ms (start+remove)`);
  }

  // ---- teardown (engines, host state, cgroups, work dir) -----------------
  const cgroupsBelow: Record<string, string[]> = {};
  for (const e of engines) {
    const dirs = (await cgroupDirsUnder(e.cgroupParent)).map((d) => d.slice(d.indexOf(e.cgroupParent) + e.cgroupParent.length)).filter(Boolean);
    if (dirs.length) cgroupsBelow[e.name] = [...new Set(dirs)];
  }
  const logProblems = Object.fromEntries(
    engines
      .filter((e) => e.target)
      .map((e) => [e.name, (e.target?.log() ?? '').split('\n').filter((l) => (e.name === 'joeyd' ? /"level":"(warn|error)"|\bfail/i.test(l) : /level=(warning|error|fatal)/.test(l) && !CONTAINERD_ROUTINE.test(l)))] as const),
  );
  const loadAtEnd = loadavg().map(round2);
  const stamp = new Date().toISOString().replace(/:\d\d\.\d+Z$/, '').replace(':', '');
  const outPath = (o.get('out') as string | undefined) ?? join(repoRoot, 'bench', 'results', `cri-${stamp}.json`);
  await mkdir(dirname(outPath), { recursive: true });
  // A server that failed: its log (the tail its target keeps) beside the JSON.
  const failedLogs: Record<string, string> = {};
  for (const e of engines) {
    if (!e.failed || !e.target) continue;
    const path = outPath.replace(/\.json$/, '') + `.${e.name}.log`;
    writeFileSync(path, e.target.log());
    failedLogs[e.name] = path;
  }
  await runCleanups();
  const mountsLeft = mountsUnder(dir);

  // ---- report --------------------------------------------------------------
  const label: Record<Phase, string> = {
    run: '1 RunPodSandbox',
    start: '2 CreateContainer+StartContainer',
    exec: '3 ExecSync true',
    remove: '4 StopPodSandbox+RemovePodSandbox',
    stopOnly: '  4a StopPodSandbox',
    removeOnly: '  4b RemovePodSandbox',
    cycle: 'whole cycle (1-4)',
    batchStart: `${podsAtOnce} pods at once: all running`,
    batchRemove: `${podsAtOnce} pods at once: all removed`,
  };
  const joey = engines.find((e) => e.name === 'joeyd');
  const ctd = engines.find((e) => e.name === 'containerd');
  const ok = (e: EngineState | undefined, p: Phase) => !!e && !e.failed && e.ms[p].length > 0;
  const cells = (e: EngineState | undefined, p: Phase): string[] =>
    ok(e, p) && e ? [median(e.ms[p]).toFixed(1), Math.min(...e.ms[p]).toFixed(1), Math.max(...e.ms[p]).toFixed(1)] : ['-', '-', '-'];
  const header = ['ms', ...engines.flatMap((e) => [`${e.name} median`, 'min', 'max']), ...(joey && ctd ? ['joeyd/containerd'] : [])];
  const phases: Phase[] = [...CYCLE_PHASES, 'batchStart', 'batchRemove'];
  const table = phases.map((p) => [
    label[p],
    ...engines.flatMap((e) => cells(e, p)),
    ...(joey && ctd ? [ok(joey, p) && ok(ctd, p) ? `${(median(joey.ms[p]) / median(ctd.ms[p])).toFixed(2)}x` : '-'] : []),
  ]);
  const meanOf = (xs: number[]) => (xs.length ? round2(xs.reduce((a, x) => a + x, 0) / xs.length) : undefined);
  const out: string[] = [
    '',
    `CRI pod lifecycle: ${rounds} cycles and ${batchRounds} batches of ${podsAtOnce} pods after an untimed warm-up of each, round-robin; wall-clock ms at the client (one gRPC client, src/api/cri/client.ts, for both)`,
    `engines: ${engines.map((e) => `${e.name} (${e.runtime ?? '?'})`).join(', ')}; runc ${versions.runc.replace(/^runc version /, '')}, CNI plugins ${versions.cniPlugins} (loopback, bridge + host-local)`,
    `machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, kernel ${machine.kernel}; load at start ${machine.loadAtStart.join(' ')}, at end ${loadAtEnd.join(' ')}; mean load during the timed cycles ${engines.map((e) => `${e.name} ${meanOf(e.load.cycle) ?? '-'}`).join(', ')}`,
    '',
    formatTable(header, table),
    ...engines.filter((e) => e.failed).map((e) => `${e.name}: failed (${excerpt(e.failed ?? '', 300)})`),
    '',
  ];
  process.stdout.write(out.join('\n') + '\n');
  for (const e of engines) if (e.checked) log(`check ${e.name}: ${e.checked}`);
  for (const e of engines) if (e.leaks.length) log(`warning: ${e.name} left: ${e.leaks.join(', ')}`);
  for (const [e, l] of Object.entries(cgroupsBelow)) log(`note: ${e} left ${l.length} cgroup dir(s) below its parent (removed): ${l.slice(0, 5).join(', ')}`);
  for (const [e, l] of Object.entries(logProblems)) {
    if (!l.length) continue;
    log(`note: ${e} logged ${l.length} warning/error line(s), e.g.:`);
    for (const x of l.slice(0, 3)) log(`  ${excerpt(x, 300)}`);
  }
  if (cniCacheLeft.length) log(`note: libcni cache files left for our pods (removed): ${cniCacheLeft.join(', ')}`);
  if (mountsLeft.length) log(`warning: still mounted: ${mountsLeft.join(', ')}`);
  if (cgroupsLeft.length) log(`warning: cgroups not removed: ${cgroupsLeft.join(', ')}`);

  for (const [e, p] of Object.entries(failedLogs)) log(`${e} failed: its log is in ${p}`);
  const result = {
    benchmark: 'cri',
    date: new Date().toISOString(),
    rounds,
    batchRounds,
    podsAtOnce,
    machine: { ...machine, loadAtEnd },
    versions,
    engines: Object.fromEntries(
      engines.map((e) => [
        e.name,
        {
          runtime: e.runtime,
          subnet: `10.${e.octet}.0.0/24`,
          check: e.checked,
          failed: e.failed,
          results: Object.fromEntries(
            phases.map((p) => [
              p,
              ok(e, p)
                ? { medianMs: round2(median(e.ms[p])), minMs: round2(Math.min(...e.ms[p])), maxMs: round2(Math.max(...e.ms[p])), ms: e.ms[p].map(round2), load: e.load[p], meanLoad: meanOf(e.load[p]) }
                : { ms: e.ms[p].map(round2) },
            ]),
          ),
          leaks: e.leaks,
          logFile: failedLogs[e.name],
          logProblems: (logProblems[e.name] ?? []).slice(0, 50),
        },
      ]),
    ),
    ratioJoeydToContainerd:
      joey && ctd ? Object.fromEntries(phases.filter((p) => ok(joey, p) && ok(ctd, p)).map((p) => [p, round2(median(joey.ms[p]) / median(ctd.ms[p]))])) : undefined,
    leftAtEnd: { mounts: mountsLeft, cgroups: cgroupsLeft, cgroupsBelowParents: cgroupsBelow, cniCache: cniCacheLeft },
  };
  writeFileSync(outPath, JSON.stringify(result, null, 2) + '\n');
  log(`results: ${outPath}`);
}

// ---- the lifecycle ---------------------------------------------------------

let seq = 0;

/** What kubelet sends for a pod (trimmed): metadata, hostname, log directory, DNS, cgroup parent, namespace modes. */
function podConfig(e: EngineState, name: string): object {
  return {
    metadata: { name, namespace: 'bench', uid: `uid-${name}`, attempt: 0 },
    hostname: name,
    log_directory: join(logRoot, e.name, name),
    dns_config: { servers: ['127.0.0.53'], searches: ['bench.svc.cluster.local'], options: ['ndots:5'] },
    labels: { app: 'bench' },
    linux: { cgroup_parent: e.cgroupParent, security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
}

function containerConfig(): object {
  return {
    metadata: { name: 'sleep', attempt: 0 },
    image: { image: IMAGE },
    command: ['sleep'],
    args: ['3600'],
    log_path: 'sleep/0.log',
    linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
}

function client(e: EngineState): CriClient {
  if (!e.cri) throw new Error(`${e.name} has no client`);
  return e.cri;
}

/** A RuntimeService call whose failure names the RPC (and keeps the gRPC code and details). */
async function rt(e: EngineState, rpc: string, req: object): Promise<any> {
  try {
    return await client(e).runtime(rpc, req);
  } catch (err) {
    const g = err as { code?: number; details?: string; message?: string };
    throw new Error(`${rpc}: ${g.code ?? ''} ${g.details ?? g.message ?? String(err)}`);
  }
}

async function runPod(e: EngineState, name: string): Promise<{ podId: string; pod: object }> {
  const pod = podConfig(e, name);
  const podId = (await rt(e, 'RunPodSandbox', { config: pod })).pod_sandbox_id as string;
  e.pods.add(podId);
  e.allPods.push(podId);
  return { podId, pod };
}

async function startSleep(e: EngineState, podId: string, pod: object): Promise<string> {
  const id = (await rt(e, 'CreateContainer', { pod_sandbox_id: podId, config: containerConfig(), sandbox_config: pod })).container_id as string;
  await rt(e, 'StartContainer', { container_id: id });
  return id;
}

/** Stop + Remove; returns when the stop returned (ms, the clock of now()). */
async function removePod(e: EngineState, podId: string): Promise<number> {
  await rt(e, 'StopPodSandbox', { pod_sandbox_id: podId });
  const stopped = now();
  await rt(e, 'RemovePodSandbox', { pod_sandbox_id: podId });
  e.pods.delete(podId);
  return stopped;
}

/** One pod through steps 1-4; with check, untimed checks between the steps (the warm-up). */
async function cycle(e: EngineState, label: string, check: boolean): Promise<Record<'run' | 'start' | 'exec' | 'remove' | 'stopOnly' | 'removeOnly' | 'cycle', number>> {
  const name = `jbc-${label}-${++seq}`;
  let extra = 0;
  const t0 = now();
  const { podId, pod } = await runPod(e, name);
  const t1 = now();
  if (check) {
    const s0 = now();
    const st = (await rt(e, 'PodSandboxStatus', { pod_sandbox_id: podId })).status;
    const prefix = `10.${e.octet}.0.`;
    if (st.state !== 'SANDBOX_READY' || !String(st.network?.ip ?? '').startsWith(prefix)) throw new Error(`sandbox ${st.state}, ip ${st.network?.ip} not in ${prefix}0/24`);
    e.checked = `pod ip ${st.network.ip}`;
    extra += now() - s0;
  }
  const t1b = now();
  const id = await startSleep(e, podId, pod);
  const t2 = now();
  if (check) {
    const s0 = now();
    const st = (await rt(e, 'ContainerStatus', { container_id: id })).status;
    if (st.state !== 'CONTAINER_RUNNING') throw new Error(`container ${st.state} after StartContainer`);
    const pidNs = Buffer.from((await rt(e, 'ExecSync', { container_id: id, cmd: ['cat', '/proc/1/cmdline'], timeout: 10 })).stdout).toString();
    e.checked += `, container running, its pid 1: ${pidNs.replace(/\0/g, ' ').trim()}`;
    extra += now() - s0;
  }
  const t2b = now();
  const r = await rt(e, 'ExecSync', { container_id: id, cmd: ['true'], timeout: 10 });
  const t3 = now();
  if (r.exit_code !== 0) throw new Error(`ExecSync true: exit code ${r.exit_code}`);
  const t3b = await removePod(e, podId);
  const t4 = now();
  return { run: t1 - t0, start: t2 - t1b, exec: t3 - t2b, remove: t4 - t3, stopOnly: t3b - t3, removeOnly: t4 - t3b, cycle: t4 - t0 - extra };
}

/** n pods (sandbox + sleep container) started at once; then all removed at once. */
async function batch(e: EngineState, n: number, label: string): Promise<Record<'batchStart' | 'batchRemove', number>> {
  const base = `jbc-${label}-${++seq}`;
  const t0 = now();
  const started = await Promise.allSettled(
    Array.from({ length: n }, async (_x, i) => {
      const { podId, pod } = await runPod(e, `${base}-${i}`);
      await startSleep(e, podId, pod);
      return podId;
    }),
  );
  const t1 = now();
  const bad = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (bad) throw bad.reason instanceof Error ? bad.reason : new Error(String(bad.reason));
  const ids = started.map((s) => (s as PromiseFulfilledResult<string>).value);
  // untimed: all n containers running
  const running = (await rt(e, 'ListContainers', { filter: { state: { state: 'CONTAINER_RUNNING' } } })).containers.length as number;
  if (running !== n) throw new Error(`${running} of ${n} containers running after the starts`);
  const t2 = now();
  const removed = await Promise.allSettled(ids.map((id) => removePod(e, id)));
  const t3 = now();
  const bad2 = removed.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (bad2) throw bad2.reason instanceof Error ? bad2.reason : new Error(String(bad2.reason));
  return { batchStart: t1 - t0, batchRemove: t3 - t2 };
}

/** Untimed, after each timed step: the engine lists no sandbox and no container. */
async function nothingLeft(e: EngineState): Promise<void> {
  const pods = (await rt(e, 'ListPodSandbox', {})).items as Array<{ id: string }>;
  const ctrs = (await rt(e, 'ListContainers', {})).containers as Array<{ id: string }>;
  if (pods.length || ctrs.length) throw new Error(`still listed after removal: ${pods.length} sandbox(es), ${ctrs.length} container(s)`);
}

/** Stops and removes every sandbox the engine lists (after an error, and at the end). */
async function sweep(e: EngineState): Promise<void> {
  const cri = client(e);
  const pods = ((await cri.runtime('ListPodSandbox', {})).items as Array<{ id: string }>).map((p) => p.id);
  for (const id of new Set([...pods, ...e.pods])) {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: id }).catch(() => undefined);
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id }).catch(() => undefined);
    e.pods.delete(id);
  }
}

// ---- set-up helpers ----------------------------------------------------------

/**
 * containerd 1.6 puts each shim's socket in /run/containerd/s whatever its
 * state directory, named sha256(<containerd address>/<namespace>/<id>); with
 * the CRI one shim per pod, id = the sandbox's. A shim killed (its containerd
 * died first) leaves its socket: ours go, then the directories if empty.
 */
async function removeShimSockets(address: string, podIds: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const id of podIds) {
    const path = `/run/containerd/s/${createHash('sha256').update(`${address}/k8s.io/${id}`).digest('hex')}`;
    try {
      await unlink(path);
      left.push(`shim socket ${path} (removed)`);
    } catch {
      /* gone with its shim, as it should be */
    }
  }
  for (const d of ['/run/containerd/s', '/run/containerd/runc/k8s.io', '/run/containerd/runc', '/run/containerd']) await rmdir(d).catch(() => undefined);
  return left;
}

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

/** n octets X such that 10.X.0.0/24 overlaps no route (any table) and no address on the host. */
async function freeOctets(n: number): Promise<number[]> {
  const taken = (await run(['ip', '-4', 'route', 'show', 'table', 'all'])).stdout + (await run(['ip', '-4', '-o', 'addr'])).stdout;
  if (/\b10\.0\.0\.0\/8\b/.test(taken)) throw new Error('a route or address covers 10.0.0.0/8: no free /24 for the pods');
  const out: number[] = [];
  for (let x = 150 + (process.pid % 40); out.length < n && x < 250; x++) {
    if (!new RegExp(`\\b10\\.${x}\\.`).test(taken)) out.push(x);
  }
  if (out.length < n) throw new Error('no free 10.X.0.0/24 for the pods');
  return out;
}

/**
 * skopeo copy to a docker-archive (what `docker load` and `ctr images import`
 * both take); in a private mount namespace with a tmpfs over /var/lib, so
 * that containers/image's blob-info cache stays off the host.
 */
async function skopeoToArchive(src: string, tar: string, ref: string, workDir: string): Promise<void> {
  await runOk(withTmpfsOver(['/var/lib'], ['skopeo', '--insecure-policy', 'copy', '--quiet', src, `docker-archive:${tar}:${ref}`]), {
    timeoutSeconds: 120,
    env: { ...process.env, TMPDIR: workDir },
  });
}

main().catch(async (e: unknown) => {
  process.stderr.write(`bench/cri: ${e instanceof Error ? e.message : String(e)}\n`);
  await runCleanups();
  process.exit(1);
});
