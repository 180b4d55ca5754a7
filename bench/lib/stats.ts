// Summary statistics and the machine description printed with results.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { run } from './proc.ts';

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export interface Machine {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  disk: string;
  loadAtStart: number[];
}

export async function describeMachine(path: string): Promise<Machine> {
  const fs = await run(['findmnt', '-T', path, '-no', 'SOURCE,FSTYPE']);
  const [source = '?', fstype = '?'] = fs.stdout.trim().split(/\s+/);
  let disk = `${fstype} on ${source}`;
  const dev = source.startsWith('/dev/') ? source : '';
  if (dev) {
    const lb = await run(['lsblk', '-dno', 'SIZE,MODEL', dev]);
    const [size = '?', ...model] = lb.stdout.trim().split(/\s+/);
    const name = dev.replace('/dev/', '');
    let sched = '';
    try {
      sched = /\[([^\]]+)\]/.exec(readFileSync(`/sys/block/${name}/queue/scheduler`, 'utf8'))?.[1] ?? '';
    } catch {
      /* a partition or no scheduler */
    }
    const kind = name.startsWith('vd') ? 'virtio disk' : model.join(' ') || 'disk';
    disk += ` (${kind}, ${size}${sched ? `, scheduler ${sched}` : ''})`;
  }
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? '?',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    disk,
    loadAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** First line of `argv` output, or 'not installed'. */
export async function versionOf(argv: string[]): Promise<string> {
  try {
    const r = await run(argv, { timeoutSeconds: 10 });
    const line = (r.stdout || r.stderr).split('\n').find((l) => l.trim().length > 0) ?? '';
    return r.code === 0 ? line.trim() : `unknown (${line.trim()})`;
  } catch {
    return 'not installed';
  }
}

/** The versions of every engine and tool the benchmarks use. */
export async function engineVersions(): Promise<Record<string, string>> {
  return {
    dockerd: await versionOf(['dockerd', '--version']),
    'docker CLI': await versionOf(['docker', '--version']),
    containerd: await versionOf(['containerd', '--version']),
    ctr: await versionOf(['ctr', '--version']),
    podman: await versionOf(['podman', '--version']),
    conmon: await versionOf(['conmon', '--version']),
    runc: await versionOf(['runc', '--version']),
    registry: await versionOf(['docker-registry', '--version']),
    skopeo: await versionOf(['skopeo', '--version']),
    node: process.version,
  };
}

/** Rounds to two decimals (for load averages and the JSON). */
export const round2 = (x: number): number => Math.round(x * 100) / 100;

/** A plain text table: the first columns (names) left-aligned, numbers right-aligned. */
export function formatTable(header: string[], rows: string[][], leftColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((x, i) => (i < leftColumns ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
