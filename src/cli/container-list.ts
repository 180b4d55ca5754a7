// joey ps / joey container ls: docker's table (and --format) of containers.
import type { ContainerSummary } from '../engine/containers/types.ts';
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { GoMethod, Template, TemplateError, goJson, goStruct } from './format.ts';
import { TABLE, renderRows } from './formatter.ts';
import { filtersParam, toFilters } from './filters.ts';
import { goQuote } from './go-values.ts';
import { ellipsis, goTimeString, humanDuration, humanSizeWithPrecision, truncateId } from './units.ts';
import { familiarName, parseReference } from '../reference/index.ts';

export interface PsOptions {
  all?: boolean;
  quiet?: boolean;
  size?: boolean;
  noTrunc?: boolean;
  latest?: boolean;
  last?: string | number;
  format?: string;
  filter?: string[];
}

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const RAW =
  'container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n';

export const CONTAINER_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

/** docker's NewContainerFormat. */
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === TABLE || source === '') return quiet ? '{{.ID}}' : DEFAULT_TABLE + (size ? '\t{{.Size}}' : '');
  if (source === 'raw') return quiet ? 'container_id: {{.ID}}' : RAW + (size ? 'size: {{.Size}}\n' : '');
  return quiet ? '{{.ID}}' : source;
}

type Port = ContainerSummary['Ports'][number];

const joinHostPort = (host: string, port: string) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** docker's DisplayablePorts: consecutive ports grouped into ranges. */
export function displayablePorts(ports: Port[]): string {
  const sorted = [...ports].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
    if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1;
    if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, start: number, last: number) => {
    const parts = key.split('/');
    let type = parts[0]!;
    let ip = '';
    if (parts.length > 1) {
      ip = parts[0]!;
      type = parts[1]!;
    }
    let group = String(start);
    if (start !== last) group = `${group}-${last}`;
    if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of sorted) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    // a new group for the key, which keeps its place in the order
    g.first = current;
    g.last = current;
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

function imageName(c: ContainerSummary, trunc: boolean): string {
  if (!c.Image) return '<no image>';
  if (trunc) {
    const t = truncateId(c.ImageID ?? '');
    if (t === truncateId(c.Image)) return t;
    try {
      const ref = parseReference(c.Image);
      return ref.tag !== undefined ? `${familiarName(ref)}:${ref.tag}` : familiarName(ref);
    } catch {
      // not a name: shown as the daemon gave it
    }
  }
  return c.Image;
}

type Summary = ContainerSummary & { ImageManifestDescriptor?: { platform?: { os?: string; architecture?: string; variant?: string } } };

/** One row's template fields, as docker's ContainerContext has them. Reading
 * Size marks it used, so that `ps` can ask the daemon for sizes. */
export function containerContext(c: Summary, trunc: boolean, now = Date.now(), onSize?: () => void) {
  const names = (c.Names ?? []).map((n) => n.slice(1));
  let shownNames = names;
  if (trunc) {
    const plain = names.find((n) => n.split('/').length === 1);
    if (plain !== undefined) shownNames = [plain];
  }
  const labels = c.Labels ?? null;
  const platform = c.ImageManifestDescriptor?.platform;
  const size = () => {
    onSize?.();
    const rw = humanSizeWithPrecision(c.SizeRw ?? 0, 3);
    return (c.SizeRootFs ?? 0) > 0 ? `${rw} (virtual ${humanSizeWithPrecision(c.SizeRootFs!, 3)})` : rw;
  };
  const mounts = (c.Mounts ?? []).map((m) => {
    const name = m.Name ? m.Name : m.Source;
    return trunc ? ellipsis(name, 15) : name;
  });
  const fields = {
    ID: trunc ? truncateId(c.Id ?? '') : (c.Id ?? ''),
    Names: shownNames.join(','),
    Image: imageName(c, trunc),
    Command: goQuote(trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '')),
    CreatedAt: goTimeString(c.Created ?? 0),
    RunningFor: humanDuration(now - (c.Created ?? 0) * 1000) + ' ago',
    Ports: displayablePorts(c.Ports ?? []),
    State: c.State ?? '',
    Status: c.Status ?? '',
    get Size() {
      return size();
    },
    Labels: labels === null ? '' : Object.keys(labels).map((k) => `${k}=${labels[k]}`).sort().join(','),
    Label: new GoMethod(['string'], (name: string) => (labels === null ? '' : (labels[name] ?? ''))),
    Mounts: mounts.join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Networks: c.NetworkSettings ? Object.keys(c.NetworkSettings.Networks ?? {}).join(',') : '',
    Platform: platform ? [platform.os ?? '', platform.architecture ?? '', platform.variant ?? ''].filter((x) => x !== '').join('/') : null,
  };
  // docker marshals every method's value, sorted, through json.Marshal (HTML escaped)
  const marshal = () => {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(fields).filter((k) => k !== 'Label').sort()) {
      o[k] = k === 'Platform' && platform ? { architecture: platform.architecture ?? '', os: platform.os ?? '', ...(platform.variant ? { variant: platform.variant } : {}) } : fields[k as keyof typeof fields];
    }
    return goJson(o, true);
  };
  return goStruct('*formatter.ContainerContext', fields, marshal);
}

export function renderContainers(containers: ContainerSummary[], format: string, trunc: boolean, now = Date.now()): string {
  return renderRows(
    format,
    containers.map((c) => containerContext(c, trunc, now)),
    CONTAINER_HEADERS,
  );
}

/** The list query for the flags; a --format is tried on an empty row first,
 * as docker does, to fail early and to see whether it shows sizes. */
export function listQuery(opts: PsOptions) {
  const last = opts.last === undefined ? -1 : Number(opts.last);
  let limit = last;
  if (opts.latest && last === -1) limit = 1;
  let size = !!opts.size;
  if (opts.format) {
    let tmpl: Template;
    try {
      tmpl = Template.parse(opts.format);
    } catch (err) {
      if (err instanceof TemplateError) throw new StatusError(`failed to parse template: ${err.message}`);
      throw err;
    }
    let usedSize = false;
    const probe = containerContext({ Names: [], Ports: [], Mounts: [], Labels: null } as unknown as ContainerSummary, false, Date.now(), () => (usedSize = true));
    try {
      tmpl.execute(probe);
    } catch (err) {
      if (err instanceof TemplateError) throw new StatusError(`failed to execute template: ${err.message}`);
      throw err;
    }
    if (!opts.quiet && opts.size === undefined && usedSize) size = true;
  }
  return { all: opts.all || undefined, limit: limit !== -1 ? String(limit) : undefined, size: size || undefined, filters: filtersParam(toFilters(opts.filter)) };
}

export async function runPs(cli: Cli, opts: PsOptions): Promise<void> {
  let format = opts.format ?? '';
  if (format === '') format = cli.config.psFormat ?? '';
  else if (opts.quiet) cli.err('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  const query = listQuery({ ...opts, format });
  const containers = await cli.client.get<ContainerSummary[] | null>('/containers/json', { query });
  cli.out(renderContainers(containers ?? [], containerFormat(format, !!opts.quiet, !!query.size), !opts.noTrunc));
}
