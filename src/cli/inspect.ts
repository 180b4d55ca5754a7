// joey inspect: any object by name or id (containers first, then images,
// networks and volumes), as docker's inspect; also the shared printer for
// `image inspect` and `container inspect`: the daemon's JSON as a 4-space
// indented array, or each object through a --format template.
import { ApiError, escapePath } from '../client/client.ts';
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { Template, TemplateError, TypedNil } from './format.ts';
import { compactJson, indentJson } from './json-text.ts';

// Fields that are Go nil slices or maps when null: docker's typed structs
// print them as "[]" and "map[]".
const SLICE_FIELDS = new Set([
  'Env', 'Cmd', 'Entrypoint', 'OnBuild', 'Shell', 'RepoTags', 'RepoDigests', 'Layers', 'Tags', 'Test',
  'Args', 'ExecIDs', 'Binds', 'CapAdd', 'CapDrop', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'Links', 'SecurityOpt',
  'VolumesFrom', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'Ulimits', 'MaskedPaths', 'ReadonlyPaths', 'Aliases', 'DNSNames', 'Mounts',
  'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'ConsoleSize',
]);
const MAP_FIELDS = new Set(['Labels', 'ExposedPorts', 'Volumes', 'Data', 'Options', 'PortBindings', 'Tmpfs', 'Sysctls', 'StorageOpt', 'Ports', 'Networks', 'Annotations', 'DriverOpts', 'AuxiliaryAddresses', 'Containers']);

/** Gives nulls their Go kind, for templates. */
export function typedNulls(v: unknown, key = ''): unknown {
  if (v === null) {
    if (SLICE_FIELDS.has(key)) return new TypedNil('slice');
    if (MAP_FIELDS.has(key)) return new TypedNil('map');
    return null;
  }
  if (Array.isArray(v)) return v.map((x) => typedNulls(x));
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = typedNulls(x, k);
    return out;
  }
  return v;
}

/** Fetches one object's JSON text, or throws the daemon's error. */
export type RawFetcher = (ref: string) => Promise<string>;

export async function fetchText(cli: Cli, path: string, query?: Record<string, string | undefined>): Promise<string> {
  const res = await cli.client.stream('GET', path, { query });
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** docker's inspect.Inspect: prints what was found, then fails with every error. */
/** `shape` gives a decoded object the fields its Go struct would have, for templates. */
export async function inspectObjects(cli: Cli, refs: string[], format: string | undefined, fetch: RawFetcher, shape?: (v: any) => unknown): Promise<void> {
  const fmt = format ?? '';
  let tmpl: Template | undefined;
  if (fmt !== '' && fmt !== 'json') {
    try {
      tmpl = Template.parse(fmt);
    } catch (err) {
      if (err instanceof TemplateError) throw new StatusError(`template parsing error: ${err.message}`, 64);
      throw err;
    }
  }
  const errors: string[] = [];
  const raws: string[] = [];
  let buf = '';
  for (const ref of refs) {
    let raw: string;
    try {
      raw = await fetch(ref);
    } catch (err) {
      errors.push(displayError(err));
      continue;
    }
    if (!tmpl) {
      raws.push(raw);
      continue;
    }
    try {
      const value = JSON.parse(raw);
      buf += tmpl.execute(typedNulls(shape ? shape(value) : value), { missingKey: 'error' }) + '\n';
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      errors.push(`template parsing error: ${err.message}`);
    }
  }
  if (tmpl) cli.out(buf === '' ? '\n' : buf);
  else if (raws.length === 0) cli.out('[]\n');
  else {
    const all = `[${raws.join(',')}]`;
    cli.out((fmt === 'json' ? compactJson(all) : indentJson(all, '    ')) + '\n');
  }
  if (errors.length > 0) throw new StatusError(errors.join('\n'));
}

const TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

const skippable = (err: unknown): boolean =>
  (err instanceof ApiError && err.status === 404) || /not supported|invalid reference format/.test((err as Error).message ?? '');

export interface InspectOptions {
  format?: string;
  type?: string;
  size?: boolean;
}

export async function runInspectAny(cli: Cli, refs: string[], opts: InspectOptions): Promise<void> {
  if (opts.type === '') throw new StatusError(`type is empty: must be one of "${TYPES.join('", "')}"`);
  if (opts.type !== undefined && !TYPES.includes(opts.type)) throw new StatusError(`unknown type: "${opts.type}": must be one of "${TYPES.join('", "')}"`);
  const kinds: Array<{ type: string; sized?: boolean; fetch: RawFetcher }> = [
    { type: 'container', sized: true, fetch: (r) => fetchText(cli, `/containers/${escapePath(r)}/json`, { size: opts.size ? '1' : undefined }) },
    { type: 'image', fetch: (r) => fetchText(cli, `/images/${escapePath(r)}/json`) },
    { type: 'network', fetch: (r) => fetchText(cli, `/networks/${escapePath(r)}`) },
    { type: 'volume', fetch: (r) => fetchText(cli, `/volumes/${escapePath(r)}`) },
  ];
  await inspectObjects(cli, refs, opts.format, async (ref) => {
    for (const k of kinds) {
      if (opts.type !== undefined && k.type !== opts.type) continue;
      try {
        const raw = await k.fetch(ref);
        if (opts.size && !k.sized) cli.err(`WARNING: --size ignored for ${k.type}\n`);
        return raw;
      } catch (err) {
        if (opts.type === undefined && skippable(err)) continue;
        throw err;
      }
    }
    throw new StatusError(`Error: No such object: ${ref}`);
  });
}

export async function runContainerInspect(cli: Cli, refs: string[], opts: InspectOptions): Promise<void> {
  await inspectObjects(cli, refs, opts.format, (r) => fetchText(cli, `/containers/${escapePath(r)}/json`, { size: opts.size ? '1' : undefined }));
}
