// pause, unpause, rename, update, resize, top.
import { conflict, invalid } from '../../errdefs/index.ts';
import { run } from '../../sys/exec.ts';
import { resourcesFromHostConfig } from '../../runtime/spec/index.ts';
import { updateDiskQuota } from './quota.ts';
import { pinLxcfsCpus } from './spec.ts';
import type { ContainerContext } from './context.ts';
import { normalizeHostConfig } from './create.ts';
import { findContainer } from './lookup.ts';
import { renameLinks } from './link-setup.ts';
import { NAME_RE } from './names.ts';
import type { HostConfig } from './types.ts';

function runningOrThrow(c: { state: { Running: boolean }; id: string }): void {
  if (!c.state.Running) throw conflict(`Container ${c.id} is not running`);
}

export async function pauseContainer(cx: ContainerContext, idOrName: string): Promise<void> {
  const c = findContainer(cx, idOrName);
  await cx.lock(c.id, async () => {
    const cur = cx.store.get(c.id)!;
    runningOrThrow(cur);
    if (cur.state.Paused) throw conflict(`Container ${c.id} is already paused`);
    cx.health?.untrack(c.id);
    await cx.runtimeOf(cur).pause(c.id).catch((e) => {
      cx.health?.track(c.id);
      throw e;
    });
    // dockerd: a health monitor that stops leaves the status unhealthy.
    cur.state = { ...cur.state, Paused: true, Status: 'paused', ...(cur.state.Health ? { Health: { ...cur.state.Health, Status: 'unhealthy' as const } } : {}) };
    cx.store.save(cur);
  });
  cx.deps.events.publish({ Type: 'container', Action: 'pause', Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef } }, status: 'pause', id: c.id, from: c.imageRef });
}

export async function unpauseContainer(cx: ContainerContext, idOrName: string): Promise<void> {
  const c = findContainer(cx, idOrName);
  await cx.lock(c.id, async () => {
    const cur = cx.store.get(c.id)!;
    if (!cur.state.Paused) throw conflict(`Container ${c.id} is not paused`);
    await cx.runtimeOf(cur).resume(c.id);
    cur.state = { ...cur.state, Paused: false, Status: 'running' };
    cx.store.save(cur);
    cx.health?.track(c.id);
  });
  cx.deps.events.publish({ Type: 'container', Action: 'unpause', Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef } }, status: 'unpause', id: c.id, from: c.imageRef });
}

export async function renameContainer(cx: ContainerContext, idOrName: string, newName: string): Promise<void> {
  const name = newName.replace(/^\//, '');
  if (!name) throw invalid('Neither old nor new names may be empty');
  if (!NAME_RE.test(name)) throw invalid(`Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const c = findContainer(cx, idOrName);
  let old = '';
  await cx.lock(c.id, async () => {
    const cur = cx.store.get(c.id)!;
    if (cur.name === name) throw conflict(`Renaming a container with the same name as its current name`);
    cx.deps.db.transaction(() => {
      const other = cx.store.nameTaken(name);
      if (other) throw conflict(`Error when allocating new name: Conflict. The container name "/${name}" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.`);
      old = cur.name;
      cur.name = name;
      cx.store.save(cur);
      cx.deps.events.publish({ Type: 'container', Action: 'rename', Actor: { ID: c.id, Attributes: { name, oldName: `/${old}` } }, status: 'rename', id: c.id });
    });
  });
  // Outside the lock: this container's own links are among those rewritten.
  await renameLinks(cx, old, name);
}

const UPDATABLE: Array<keyof HostConfig> = [
  'CpuShares', 'Memory', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'MemoryReservation', 'MemorySwap',
  'PidsLimit', 'BlkioWeight', 'RestartPolicy', 'KernelMemory', 'OomKillDisable', 'CpuRealtimePeriod', 'CpuRealtimeRuntime',
];

export async function updateContainer(cx: ContainerContext, idOrName: string, update: HostConfig): Promise<{ Warnings: string[] }> {
  const c = findContainer(cx, idOrName);
  const warnings: string[] = [];
  await cx.lock(c.id, async () => {
    const cur = cx.store.get(c.id)!;
    const next: HostConfig = { ...cur.hostConfig };
    for (const k of UPDATABLE) {
      const v = update[k];
      if (v === undefined || v === null) continue;
      if (k !== 'RestartPolicy' && (v === 0 || v === '') && k !== 'OomKillDisable') continue;
      (next as Record<string, unknown>)[k] = v;
    }
    if (update.RestartPolicy?.Name !== undefined && update.RestartPolicy.Name !== '') next.RestartPolicy = update.RestartPolicy;
    // Memory given without swap: Docker keeps the swap ratio by leaving swap unset.
    if (update.Memory && !update.MemorySwap && cur.hostConfig.MemorySwap && cur.hostConfig.MemorySwap > 0 && cur.hostConfig.MemorySwap < update.Memory) next.MemorySwap = update.Memory * 2;
    const checked = normalizeHostConfig(next, new Set(cx.deps.runtimes.keys()), cx.deps.defaultRuntime);
    if (checked.AutoRemove && checked.RestartPolicy?.Name !== 'no') throw invalid(`Restart policy cannot be updated because AutoRemove is enabled for the container`);
    // PouchContainer's UpdateConfig.DiskQuota: the rootfs limit, live.
    if (update.DiskQuota && Object.keys(update.DiskQuota).length > 0) await updateDiskQuota(cx, cur, update.DiskQuota);
    if (cur.state.Running) {
      const resources = resourcesFromHostConfig(checked);
      // A new quota moves an lxcfs container to as many CPUs.
      if (update.NanoCpus || update.CpuQuota || update.CpuPeriod) await pinLxcfsCpus(cx, cur, checked, resources);
      await cx.runtimeOf(cur).update(c.id, resources);
    }
    cur.hostConfig = checked;
    cx.store.save(cur);
  });
  cx.deps.events.publish({ Type: 'container', Action: 'update', Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef } }, status: 'update', id: c.id });
  return { Warnings: warnings };
}

export async function resizeContainer(cx: ContainerContext, idOrName: string, height: number, width: number): Promise<void> {
  const c = findContainer(cx, idOrName);
  if (!c.state.Running) throw conflict(`Container ${c.id} is not running`);
  if (!c.config.Tty) return;
  const p = cx.paths(c.id);
  await cx.runtimeOf(c).resize({ bundle: p.bundle, persistDir: p.persistDir, exitDir: p.exitDir, logPath: p.logPath }, height, width);
}

export async function topContainer(cx: ContainerContext, idOrName: string, psArgs = '-ef'): Promise<{ Titles: string[]; Processes: string[][] }> {
  const c = findContainer(cx, idOrName);
  if (!c.state.Running) throw conflict(`Container ${c.id} is not running`);
  const pids = new Set((await cx.runtimeOf(c).pids(c.id)).map(String));
  const args = psArgs.trim() ? psArgs.trim().split(/\s+/) : ['-ef'];
  if (args.some((a) => !/^[\w,=+%-]+$/.test(a))) throw invalid(`invalid ps arguments: ${psArgs}`);
  const out = (await run('ps', args)).stdout.split('\n').filter(Boolean);
  const header = out[0]!.trim().split(/\s+/);
  const pidCol = header.indexOf('PID');
  if (pidCol < 0) throw invalid(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of out.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!pids.has(fields[pidCol]!)) continue;
    // The last column (the command) may contain spaces.
    processes.push([...fields.slice(0, header.length - 1), fields.slice(header.length - 1).join(' ')]);
  }
  return { Titles: header, Processes: processes };
}
