// joey volume create|ls|inspect|rm|prune: docker's flags, table and messages.
import type { Volume, VolumePruneReport } from '../engine/volumes/types.ts';
import { escapePath } from '../client/client.ts';
import type { Cli } from './context.ts';
import { CancelledError, StatusError, displayError } from './errors.ts';
import { addFilter, filtersParam, toFilters } from './filters.ts';
import { GoMethod, goJson, goStruct } from './format.ts';
import { keyValues, naturalCompare } from './go-values.ts';
import { TABLE, renderRows } from './formatter.ts';
import { fetchText, inspectObjects } from './inspect.ts';
import { confirm } from './prompt.ts';
import { humanSize } from './units.ts';

export async function runVolumeCreate(cli: Cli, args: string[], opts: { driver?: string; label?: string[]; opt?: string[]; name?: string }): Promise<void> {
  if (args[0] !== undefined && opts.name !== undefined && opts.name !== args[0]) {
    throw new StatusError(`conflicting options: either specify --name or provide positional arg, not both`);
  }
  const v = await cli.client.post<Volume>('/volumes/create', {
    body: { Driver: opts.driver ?? 'local', DriverOpts: keyValues(opts.opt), Labels: keyValues(opts.label), Name: args[0] ?? opts.name ?? '' },
  });
  cli.out(`${v.Name}\n`);
}

export const VOLUME_HEADERS: Record<string, string> = {
  Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE',
  Group: 'GROUP', Availability: 'AVAILABILITY', Status: 'STATUS',
};

/** docker's volumeContext: the fields a --format template sees. */
export function volumeContext(v: Volume & { UsageData?: { Size: number; RefCount: number } | null }) {
  const labels = v.Labels ?? {};
  const fields = {
    Name: v.Name,
    Driver: v.Driver,
    Scope: v.Scope,
    Mountpoint: v.Mountpoint,
    Labels: Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(','),
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Size: v.UsageData ? humanSize(v.UsageData.Size) : 'N/A',
    Group: 'N/A',
    Availability: 'N/A',
    Status: 'N/A',
  };
  // docker marshals the methods without arguments, sorted by name, HTML escaped
  const marshal = () => goJson(Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1))), true);
  return goStruct('*formatter.volumeContext', { ...fields, Label: new GoMethod(['string'], (name: string) => labels[name] ?? '') }, marshal);
}

export function renderVolumes(volumes: Volume[], opts: { quiet?: boolean; format?: string }): string {
  let format = opts.format || TABLE;
  if (format === TABLE) format = opts.quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}';
  const sorted = [...volumes].sort((a, b) => naturalCompare(a.Name, b.Name));
  return renderRows(format, sorted.map(volumeContext), VOLUME_HEADERS);
}

export async function runVolumeList(cli: Cli, opts: { filter?: string[]; format?: string; quiet?: boolean }): Promise<void> {
  const res = await cli.client.get<{ Volumes?: Volume[] | null; Warnings?: string[] | null }>('/volumes', { query: { filters: filtersParam(toFilters(opts.filter)) } });
  for (const w of res?.Warnings ?? []) cli.err(`${w}\n`);
  cli.out(renderVolumes(res?.Volumes ?? [], opts));
}

export async function runVolumeInspect(cli: Cli, names: string[], opts: { format?: string }): Promise<void> {
  await inspectObjects(cli, names, opts.format, (n) => fetchText(cli, `/volumes/${escapePath(n)}`));
}

export async function runVolumeRemove(cli: Cli, names: string[], opts: { force?: boolean }): Promise<void> {
  const errors: string[] = [];
  for (const n of names) {
    try {
      await cli.client.delete(`/volumes/${escapePath(n)}`, { query: { force: opts.force ? '1' : undefined } });
      cli.out(`${n}\n`);
    } catch (err) {
      errors.push(displayError(err));
    }
  }
  if (errors.length) throw new StatusError(errors.join('\n'));
}

const ANONYMOUS_WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
const ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';

export async function runVolumePrune(cli: Cli, opts: { all?: boolean; filter?: string[]; force?: boolean }): Promise<void> {
  const filters = toFilters(opts.filter);
  if (opts.all) {
    if (filters.all?.length) throw new StatusError('conflicting options: cannot specify both --all and --filter all=1');
    addFilter(filters, 'all', 'true');
  }
  const all = !!filters.all?.some((v) => v === 'true' || v === '1');
  if (!opts.force) {
    const ok = await confirm(cli.io.stdin, cli.io.stdout, all ? ALL_WARNING : ANONYMOUS_WARNING);
    if (!ok) throw new CancelledError('volume prune has been cancelled');
  }
  const report = await cli.client.post<VolumePruneReport>('/volumes/prune', { query: { filters: filtersParam(filters) } });
  const deleted = report?.VolumesDeleted ?? [];
  let out = '';
  let space = 0;
  if (deleted.length > 0) {
    out += 'Deleted Volumes:\n' + deleted.map((n) => n + '\n').join('') + '\n';
    space = report?.SpaceReclaimed ?? 0;
  }
  cli.out(out + `Total reclaimed space: ${humanSize(space)}\n`);
}
