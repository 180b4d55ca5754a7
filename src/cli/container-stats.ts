// joey stats: CPU, memory, network, block I/O and pids per container, from
// the daemon's stats stream; redrawn in place twice a second, or once with
// --no-stream. Computed and printed exactly as docker's stats command does.
import type { IncomingMessage } from 'node:http';
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { goJson, goStruct } from './format.ts';
import { TABLE, renderRows } from './formatter.ts';
import { containerPath } from './container-each.ts';
import { bytesSize, humanSizeWithPrecision, truncateId } from './units.ts';
import { readLines } from './jsonmessage.ts';

export interface StatsOptions {
  all?: boolean;
  noStream?: boolean;
  noTrunc?: boolean;
  format?: string;
}

/** One container's numbers, as docker's StatsEntry. */
export interface StatsEntry {
  Container: string;
  Name: string;
  ID: string;
  CPUPercentage: number;
  Memory: number;
  MemoryLimit: number;
  MemoryPercentage: number;
  NetworkRx: number;
  NetworkTx: number;
  BlockRead: number;
  BlockWrite: number;
  PidsCurrent: number;
  IsInvalid: boolean;
}

/** The parts of the Docker stats JSON that the table uses. */
export interface StatsJson {
  name?: string;
  id?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> | null; privateworkingset?: number };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null };
  pids_stats?: { current?: number };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
}

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const WINDOWS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.NetIO}}\t{{.BlockIO}}';

/** docker's calculate* helpers for a Linux daemon. */
export function statsEntry(container: string, v: StatsJson): StatsEntry {
  const cpu = v.cpu_stats ?? {};
  const pre = v.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  let online = cpu.online_cpus ?? 0;
  if (online === 0) online = (cpu.cpu_usage?.percpu_usage ?? []).length;
  const cpuPercent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
  let read = 0;
  let write = 0;
  for (const e of v.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '')[0];
    if (op === 'r' || op === 'R') read += e.value ?? 0;
    else if (op === 'w' || op === 'W') write += e.value ?? 0;
  }
  const m = v.memory_stats ?? {};
  const usage = m.usage ?? 0;
  const stats = m.stats ?? {};
  let mem = usage;
  if ('total_inactive_file' in stats && stats.total_inactive_file! < usage) mem = usage - stats.total_inactive_file!;
  else if ((stats.inactive_file ?? 0) < usage) mem = usage - (stats.inactive_file ?? 0);
  const limit = m.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(v.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  return {
    Container: container,
    Name: v.name ?? '',
    ID: v.id ?? '',
    CPUPercentage: cpuPercent,
    Memory: mem,
    MemoryLimit: limit,
    MemoryPercentage: limit !== 0 ? (mem / limit) * 100 : 0,
    NetworkRx: rx,
    NetworkTx: tx,
    BlockRead: read,
    BlockWrite: write,
    PidsCurrent: v.pids_stats?.current ?? 0,
    IsInvalid: false,
  };
}

/** strconv.FormatFloat(v, 'f', 2, 64): exact ties round to even. */
function fixed2(x: number): string {
  const s = x * 100;
  if (Number.isInteger(s * 2) && !Number.isInteger(s) && Math.abs(s) < 2 ** 52) {
    const down = Math.floor(s);
    return ((down % 2 === 0 ? down : down + 1) / 100).toFixed(2);
  }
  return x.toFixed(2);
}

const percent = (v: number) => fixed2(v) + '%';

export function statsContext(s: StatsEntry, os: string, trunc: boolean) {
  const windows = os === 'windows';
  const fields = {
    Container: s.Container,
    Name: s.Name.length > 1 ? s.Name.slice(1) : '--',
    ID: trunc ? truncateId(s.ID) : s.ID,
    CPUPerc: s.IsInvalid ? '--' : percent(s.CPUPercentage),
    MemUsage: s.IsInvalid ? '-- / --' : windows ? bytesSize(s.Memory) : `${bytesSize(s.Memory)} / ${bytesSize(s.MemoryLimit)}`,
    MemPerc: s.IsInvalid || windows ? '--' : percent(s.MemoryPercentage),
    NetIO: s.IsInvalid ? '--' : `${humanSizeWithPrecision(s.NetworkRx, 3)} / ${humanSizeWithPrecision(s.NetworkTx, 3)}`,
    BlockIO: s.IsInvalid ? '--' : `${humanSizeWithPrecision(s.BlockRead, 3)} / ${humanSizeWithPrecision(s.BlockWrite, 3)}`,
    PIDs: s.IsInvalid || windows ? '--' : String(s.PidsCurrent),
  };
  const marshal = () => {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(fields).sort()) o[k] = fields[k as keyof typeof fields];
    return goJson(o, true);
  };
  return goStruct('*container.statsContext', fields, marshal);
}

export function statsFormat(format: string, os: string): string {
  if (format === TABLE) return os === 'windows' ? WINDOWS_TABLE : DEFAULT_TABLE;
  return format;
}

export function renderStats(entries: StatsEntry[], format: string, os: string, trunc: boolean): string {
  const headers = {
    Container: 'CONTAINER',
    Name: 'NAME',
    ID: 'CONTAINER ID',
    CPUPerc: 'CPU %',
    MemUsage: os === 'windows' ? 'PRIV WORKING SET' : 'MEM USAGE / LIMIT',
    MemPerc: 'MEM %',
    NetIO: 'NET I/O',
    BlockIO: 'BLOCK I/O',
    PIDs: 'PIDS',
  };
  return renderRows(
    statsFormat(format, os),
    entries.map((e) => statsContext(e, os, trunc)),
    headers,
  );
}

/** Reads one container's stats stream, keeping the latest numbers. */
class Collector {
  entry: StatsEntry;
  error?: unknown;
  readonly first: Promise<void>;
  private gotFirst!: () => void;
  private res?: IncomingMessage;

  constructor(readonly container: string) {
    this.entry = { ...statsEntry(container, {}), IsInvalid: false };
    this.first = new Promise((r) => (this.gotFirst = r));
  }

  start(cli: Cli, stream: boolean): void {
    const timer = setTimeout(() => {
      this.entry = { ...statsEntry(this.container, {}), IsInvalid: true };
      this.error = new Error('timeout waiting for stats');
      this.gotFirst();
    }, 2000);
    void (async () => {
      try {
        this.res = await cli.client.stream('GET', containerPath(this.container, '/stats'), { query: { stream: stream ? '1' : '0' } });
        let buf = '';
        for await (const chunk of this.res) {
          buf += (chunk as Buffer).toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line) this.take(JSON.parse(line) as StatsJson);
            if (!stream) return;
          }
        }
        if (buf.trim()) this.take(JSON.parse(buf) as StatsJson);
        else {
          this.error = new Error('EOF');
          this.entry.IsInvalid = true;
        }
      } catch (err) {
        this.error = err;
        this.entry.IsInvalid = true;
      } finally {
        clearTimeout(timer);
        this.gotFirst();
      }
    })();
    this.first.then(() => clearTimeout(timer));
  }

  private take(v: StatsJson): void {
    this.entry = statsEntry(this.container, v);
    this.error = undefined;
    this.gotFirst();
  }

  stop(): void {
    this.res?.destroy();
  }
}

interface ContainerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  Actor?: { ID?: string };
  id?: string;
}

export async function runStats(cli: Cli, names: string[], opts: StatsOptions): Promise<void> {
  const stream = !opts.noStream;
  const collectors: Collector[] = [];
  const add = (container: string): Collector | undefined => {
    if (collectors.some((c) => c.container === container)) return undefined;
    const c = new Collector(container);
    collectors.push(c);
    c.start(cli, stream);
    return c;
  };
  const showAll = names.length === 0;
  let eventsError: unknown;
  let events: IncomingMessage | undefined;
  try {
    if (showAll) {
      if (stream) {
        events = await cli.client.stream('GET', '/events', { query: { filters: { type: ['container'] } } });
        void watchEvents(events, (e) => {
          const id = (e.Actor?.ID ?? e.id ?? '').slice(0, 12);
          const action = e.Action ?? e.status;
          if (!id) return;
          if (action === 'start' || (opts.all && action === 'create')) add(id);
          else if (action === 'die' && !opts.all) {
            const i = collectors.findIndex((c) => c.container === id);
            if (i >= 0) collectors.splice(i, 1)[0]!.stop();
          }
        }).catch((err: unknown) => (eventsError = err));
      }
      const list = await cli.client.get<Array<{ Id: string }> | null>('/containers/json', { query: { all: opts.all || undefined } });
      for (const c of list ?? []) add(c.Id.slice(0, 12));
      await Promise.all(collectors.map((c) => c.first));
    } else {
      for (const n of names) add(n);
      await Promise.all(collectors.map((c) => c.first));
      const errors = collectors.filter((c) => c.error !== undefined).map((c) => displayError(c.error));
      if (errors.length > 0) throw new StatusError(errors.join('\n'));
    }

    const format = opts.format || cli.config.statsFormat || TABLE;
    const os = (await cli.client.ping().catch(() => undefined))?.osType === 'windows' ? 'windows' : 'linux';
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      let text = stream ? '\x1b[H' : '';
      text += renderStats(
        collectors.map((c) => c.entry),
        format,
        os,
        !opts.noTrunc,
      );
      if (stream) {
        // docker appends each line again with "erase to end of line", then erases below
        for (const line of text.split('\n')) text += `${line} \x1b[K\n`;
        text += '\x1b[J';
      }
      cli.out(text);
      if (collectors.length === 0 && !showAll) break;
      if (!stream) break;
      if (eventsError !== undefined) throw eventsError;
    }
  } finally {
    for (const c of collectors) c.stop();
    events?.destroy();
  }
}

async function watchEvents(res: IncomingMessage, onEvent: (e: ContainerEvent) => void): Promise<void> {
  for await (const line of readLines(res)) onEvent(JSON.parse(line) as ContainerEvent);
}
