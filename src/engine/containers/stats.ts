// docker stats: the runtime's numbers in Docker's JSON, one sample a second.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { RuntimeStats } from '../../runtime/types.ts';
import type { ContainerContext } from './context.ts';
import { findContainer } from './lookup.ts';

/** Host CPU time in ns, from /proc/stat (USER_HZ is 100 on Linux). */
async function systemCpuNs(): Promise<number> {
  const text = await readFile('/proc/stat', 'utf8');
  const fields = text.slice(0, text.indexOf('\n')).trim().split(/\s+/).slice(1, 8).map(Number);
  return fields.reduce((a, b) => a + b, 0) * 10_000_000;
}

function cpuBlock(s: RuntimeStats | undefined, system: number) {
  return {
    cpu_usage: {
      total_usage: s?.cpu.usageNs ?? 0,
      percpu_usage: s?.cpu.perCpuNs.length ? s.cpu.perCpuNs : undefined,
      usage_in_kernelmode: s?.cpu.systemNs ?? 0,
      usage_in_usermode: s?.cpu.userNs ?? 0,
    },
    system_cpu_usage: s ? system : 0,
    online_cpus: os.cpus().length,
    throttling_data: { periods: 0, throttled_periods: s?.cpu.throttledPeriods ?? 0, throttled_time: s?.cpu.throttledTimeNs ?? 0 },
  };
}

export function toDockerStats(name: string, id: string, cur: RuntimeStats | undefined, curSystem: number, prev: RuntimeStats | undefined, prevSystem: number): Record<string, unknown> {
  const zero = '0001-01-01T00:00:00Z';
  return {
    read: cur?.read ?? zero,
    preread: prev?.read ?? zero,
    pids_stats: cur ? { current: cur.pids.current, ...(cur.pids.limit > 0 ? { limit: cur.pids.limit } : {}) } : {},
    blkio_stats: {
      io_service_bytes_recursive: cur
        ? [
            { major: 0, minor: 0, op: 'read', value: cur.blkio.read },
            { major: 0, minor: 0, op: 'write', value: cur.blkio.write },
          ]
        : null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuBlock(cur, curSystem),
    precpu_stats: cpuBlock(prev, prevSystem),
    // Docker's limit is unsigned: an unlimited container shows the host's memory, as dockerd does (-1 makes the docker CLI fail with "EOF").
    memory_stats: cur ? { usage: cur.memory.usage, max_usage: cur.memory.maxUsage, stats: cur.memory.raw, limit: cur.memory.limit >= 0 ? cur.memory.limit : os.totalmem() } : {},
    name: `/${name}`,
    id,
    networks: cur
      ? Object.fromEntries(
          Object.entries(cur.network).map(([k, n]) => [
            k,
            { rx_bytes: n.rxBytes, rx_packets: n.rxPackets, rx_errors: n.rxErrors, rx_dropped: n.rxDropped, tx_bytes: n.txBytes, tx_packets: n.txPackets, tx_errors: n.txErrors, tx_dropped: n.txDropped },
          ]),
        )
      : undefined,
  };
}

export async function* containerStats(cx: ContainerContext, idOrName: string, opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal }): AsyncGenerator<Record<string, unknown>> {
  const c = findContainer(cx, idOrName);
  const sample = async () => {
    const now = cx.store.get(c.id);
    if (!now?.state.Running) return undefined;
    return cx.runtimeOf(now).stats(c.id).catch(() => undefined);
  };
  let prev: RuntimeStats | undefined;
  let prevSystem = 0;
  if (!opts.stream && !opts.oneShot) {
    // Docker's non-streaming stats carry a previous sample a second earlier.
    prev = await sample();
    prevSystem = await systemCpuNs();
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (;;) {
    const cur = await sample();
    const sys = await systemCpuNs();
    yield toDockerStats(c.name, c.id, cur, sys, prev, prevSystem);
    if (!opts.stream || opts.signal?.aborted) return;
    prev = cur;
    prevSystem = sys;
    await new Promise<void>((r) => {
      const t = setTimeout(r, 1000);
      opts.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        r();
      }, { once: true });
    });
    if (opts.signal?.aborted) return;
  }
}
