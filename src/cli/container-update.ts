// joey update: new resource limits and restart policy for running containers.
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { containerPath } from './container-each.ts';
import { checkFlags, parseDiskQuota, parseRestartPolicy } from './container-opts.ts';
import { attributeName } from './flag-spec.ts';
import { UPDATE_FLAGS } from './container-flags.ts';


const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** docker's UpdateConfig: Resources (Go order, nils as null) and the restart policy. */
export function updateBody(v: Record<string, unknown>): Record<string, unknown> {
  const restart = v.restart !== undefined && v.restart !== '' ? parseRestartPolicy(str(v.restart)) : { Name: '', MaximumRetryCount: 0 };
  const body: Record<string, unknown> = {
    CpuShares: num(v.cpuShares),
    Memory: num(v.memory),
    NanoCpus: num(v.cpus),
    CgroupParent: '',
    BlkioWeight: num(v.blkioWeight),
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: num(v.cpuPeriod),
    CpuQuota: num(v.cpuQuota),
    CpuRealtimePeriod: num(v.cpuRtPeriod),
    CpuRealtimeRuntime: num(v.cpuRtRuntime),
    CpusetCpus: str(v.cpusetCpus),
    CpusetMems: str(v.cpusetMems),
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
  };
  if (num(v.kernelMemory)) body.KernelMemory = num(v.kernelMemory);
  Object.assign(body, {
    MemoryReservation: num(v.memoryReservation),
    MemorySwap: num(v.memorySwap),
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: num(v.pidsLimit) !== 0 ? num(v.pidsLimit) : null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    RestartPolicy: restart,
  });
  // PouchContainer's UpdateConfig.DiskQuota (joey only: dockerd has no such field).
  const quota = Array.isArray(v.diskQuota) ? (v.diskQuota as string[]) : [];
  if (quota.length > 0) body.DiskQuota = parseDiskQuota(quota);
  return body;
}

export async function runUpdate(cli: Cli, names: string[], opts: Record<string, unknown>): Promise<void> {
  const given = UPDATE_FLAGS.some((f) => {
    const v = opts[attributeName(f.flags)];
    return v !== undefined && !(Array.isArray(v) && v.length === 0); // a list flag defaults to []
  });
  if (!given) throw new StatusError('you must provide one or more flags when using this command');
  const v = checkFlags(UPDATE_FLAGS, opts, { env: cli.env, cwd: cli.cwd });
  let body: Record<string, unknown>;
  try {
    body = updateBody(v);
  } catch (err) {
    throw new StatusError((err as Error).message);
  }
  const warnings: string[] = [];
  const errors: string[] = [];
  for (const name of names) {
    try {
      const r = await cli.client.post<{ Warnings?: string[] | null }>(containerPath(name, '/update'), { body });
      cli.out(name + '\n');
      warnings.push(...(r?.Warnings ?? []));
    } catch (err) {
      errors.push(displayError(err));
    }
  }
  if (warnings.length > 0) cli.out(warnings.join('\n') + '\n');
  if (errors.length > 0) throw new StatusError(errors.join('\n'));
}

