// A container's mounts as the create body names them: HostConfig.Binds
// (`-v SRC:DST[:MODE]`), HostConfig.Mounts (`--mount`) and Config.Volumes
// (the image's VOLUMEs and `-v /path`), checked and merged with dockerd's
// rules and wording. Pure: what needs the filesystem (bind sources, volume
// directories) is the service's part.
import { posix } from 'node:path';
import { invalid } from '../../errdefs/index.ts';
import type { MountSpec } from '../containers/types.ts';
import { parseQuotaLimit, type QuotaLimit } from '../quota/limits.ts';

export const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const PROPAGATIONS = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'];
const CONSISTENCY = ['consistent', 'cached', 'delegated', 'default'];
export const DEFAULT_PROPAGATION = 'rprivate';
const LOCAL_OPTIONS = ['type', 'device', 'o', 'size', 'inodes'];
const REQUIRED_WITH: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device'] };

export type MountRequest =
  | {
      kind: 'bind';
      source: string;
      destination: string;
      readOnly: boolean;
      /** As given (`-v`), shown as Mode. */
      mode: string;
      propagation: string;
      nonRecursive: boolean;
      /** `-v` makes a missing source directory; `--mount` refuses it unless asked. */
      createSource: boolean;
      /** `bind-recursive=readonly`: read-only all the way down (runc's rro). */
      readOnlyForceRecursive?: boolean;
    }
  | {
      kind: 'volume';
      /** Undefined: an anonymous volume, named at random. */
      name?: string;
      destination: string;
      readOnly: boolean;
      mode: string;
      /** Fill the volume from the image's content at the destination while it is empty. */
      copy: boolean;
      labels: Record<string, string>;
      /** `--mount volume-opt=…`: the local driver's options for a volume made here. */
      driverOpts?: Record<string, string>;
      /** `--mount volume-subpath=…`: mount only this directory of the volume. */
      subpath?: string;
    }
  | { kind: 'tmpfs'; destination: string; readOnly: boolean; options: string[] };

function cleanDestination(dest: string, what: string): string {
  if (!dest) throw invalid(`invalid mount config for type "${what}": field Target must not be empty`);
  if (!dest.startsWith('/')) throw invalid(`invalid mount path: '${dest}' mount path must be absolute`);
  const d = posix.normalize(dest).replace(/(.)\/$/, '$1');
  if (d === '/') throw invalid(`invalid specification: destination can't be '/'`);
  return d;
}

/** Checks a `-v` mode list ("ro,Z", "rshared", "nocopy"): at most one of
 * each kind, as dockerd's ValidMountMode. */
function parseMode(mode: string): { readOnly: boolean; propagation?: string; noCopy: boolean } {
  const bad = (): never => {
    throw invalid(`invalid mode: ${mode}`);
  };
  let rw: string | undefined;
  let label: string | undefined;
  let propagation: string | undefined;
  let copy: string | undefined;
  let consistency: string | undefined;
  for (const m of mode.split(',')) {
    if (m === 'rw' || m === 'ro') rw = rw === undefined ? m : bad();
    else if (m === 'z' || m === 'Z') label = label === undefined ? m : bad();
    else if (PROPAGATIONS.includes(m)) propagation = propagation === undefined ? m : bad();
    else if (m === 'nocopy' || m === 'copy') copy = copy === undefined ? m : bad();
    else if (CONSISTENCY.includes(m)) consistency = consistency === undefined ? m : bad();
    else bad();
  }
  void label; // SELinux relabelling: joey's hosts have no SELinux; kept in Mode only.
  void consistency;
  return { readOnly: rw === 'ro', ...(propagation ? { propagation } : {}), noCopy: copy === 'nocopy' };
}

const isModeList = (s: string): boolean => s.split(',').every((m) => ['rw', 'ro', 'z', 'Z', 'nocopy', 'copy', ...PROPAGATIONS, ...CONSISTENCY].includes(m));

export function checkVolumeName(name: string): string {
  if (!VOLUME_NAME_RE.test(name)) {
    throw invalid(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return name;
}

/** The local driver's options, as dockerd checks them: `type`, `device`,
 * `o` (mount(8)'s), each needing its partners; `size` (and `inodes`) for a
 * volume limited by the daemon's disk-quota backend. */
export function checkLocalOptions(opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) {
    if (!LOCAL_OPTIONS.includes(k)) throw invalid(`invalid option: ${JSON.stringify(k)}`);
  }
  if (opts.size !== undefined || opts.inodes !== undefined) {
    // A sized volume is an area of the daemon's quota backend, not a mount of the user's.
    if (opts.type !== undefined || opts.device !== undefined) throw invalid('size cannot be combined with type or device: a sized volume is joey\'s own filesystem');
    if (opts.size === undefined) throw invalid('missing required option: "size" (inodes limits a sized volume)');
    sizedVolumeLimit(opts);
  }
  for (const [opt, needs] of Object.entries(REQUIRED_WITH)) {
    if (opts[opt] === undefined) continue;
    for (const n of needs) if (opts[n] === undefined) throw invalid(`missing required option: ${JSON.stringify(n)}`);
  }
  if (opts.o !== undefined && opts.o.split(',').some((o) => o === '')) throw invalid(`invalid option o=${JSON.stringify(opts.o)}: empty mount option`);
}

/** The limit of a volume created with `-o size=…` (and `-o inodes=…`). */
export function sizedVolumeLimit(opts: Record<string, string>): QuotaLimit | undefined {
  if (opts.size === undefined) return undefined;
  return parseQuotaLimit(opts.inodes === undefined ? opts.size : `${opts.size}:${opts.inodes}`, 'volume size');
}

/** A volume subpath: relative, inside the volume. */
export function checkSubpath(sub: string): string {
  const clean = posix.normalize(sub);
  if (posix.isAbsolute(sub) || clean === '..' || clean.startsWith('../')) throw invalid(`invalid mount config for type "volume": subpath must be a relative path within the volume: ${sub}`);
  return clean === '.' ? '' : clean.replace(/\/$/, '');
}

/** One HostConfig.Binds entry: "/host:/ctr[:mode]", "name:/ctr[:mode]", "/ctr[:mode]". */
export function parseBind(spec: string): MountRequest {
  if (typeof spec !== 'string' || spec === '') throw invalid('invalid volume specification: an empty bind');
  const parts = spec.split(':');
  let source = '';
  let dest: string;
  let mode = '';
  if (parts.length === 1) dest = parts[0]!;
  else if (parts.length === 2 && isModeList(parts[1]!)) [dest, mode] = [parts[0]!, parts[1]!];
  else if (parts.length === 2) [source, dest] = [parts[0]!, parts[1]!];
  else if (parts.length === 3) [source, dest, mode] = [parts[0]!, parts[1]!, parts[2]!];
  else throw invalid(`invalid volume specification: '${spec}'`);
  if (!dest) throw invalid(`invalid volume specification: '${spec}'`);
  if (!dest.startsWith('/')) throw invalid(`invalid volume specification: '${spec}': invalid mount config for type "${source.startsWith('/') ? 'bind' : 'volume'}": invalid mount path: '${dest}' mount path must be absolute`);
  const destination = cleanDestination(dest, source.startsWith('/') ? 'bind' : 'volume');
  const m = mode ? parseMode(mode) : { readOnly: false, noCopy: false };
  if (source.startsWith('/')) {
    return {
      kind: 'bind',
      source: posix.normalize(source).replace(/(.)\/$/, '$1'),
      destination,
      readOnly: m.readOnly,
      mode,
      propagation: m.propagation ?? DEFAULT_PROPAGATION,
      nonRecursive: false,
      createSource: true,
    };
  }
  if (m.propagation) throw invalid(`invalid volume specification: '${spec}': propagation (${m.propagation}) applies to bind mounts only`);
  return { kind: 'volume', ...(source ? { name: checkVolumeName(source) } : {}), destination, readOnly: m.readOnly, mode, copy: !m.noCopy, labels: {} };
}

/** tmpfs size in bytes and mode as a number (what the CLI sends) → mount options. */
function tmpfsOptions(t: MountSpec['TmpfsOptions']): string[] {
  const out: string[] = [];
  if (!t) return out;
  if (t.SizeBytes !== undefined && t.SizeBytes !== 0) {
    if (!Number.isSafeInteger(t.SizeBytes) || t.SizeBytes < 0) throw invalid(`invalid mount config for type "tmpfs": invalid size ${t.SizeBytes}`);
    out.push(`size=${t.SizeBytes}`);
  }
  if (t.Mode !== undefined && t.Mode !== 0) {
    if (!Number.isInteger(t.Mode) || t.Mode < 0 || t.Mode > 0o7777) throw invalid(`invalid mount config for type "tmpfs": invalid mode ${t.Mode}`);
    out.push(`mode=${t.Mode.toString(8)}`);
  }
  for (const o of t.Options ?? []) {
    if (!Array.isArray(o) || o.length < 1 || o.length > 2 || o.some((x) => typeof x !== 'string' || x.includes(','))) {
      throw invalid(`invalid mount config for type "tmpfs": invalid option ${JSON.stringify(o)}`);
    }
    out.push(o.join('='));
  }
  return out;
}

/** One HostConfig.Mounts entry (`--mount type=…`). */
export function parseMountSpec(m: MountSpec): MountRequest {
  if (!m || typeof m !== 'object') throw invalid('invalid mount config: expected an object');
  const type = m.Type;
  const extra = (field: string): never => {
    throw invalid(`invalid mount config for type "${type}": field ${field} must not be specified`);
  };
  switch (type) {
    case 'bind': {
      const destination = cleanDestination(m.Target, 'bind');
      if (!m.Source) throw invalid(`invalid mount config for type "bind": field Source must not be empty`);
      if (!m.Source.startsWith('/')) throw invalid(`invalid mount config for type "bind": invalid mount path: '${m.Source}' mount path must be absolute`);
      if (m.VolumeOptions) extra('VolumeOptions');
      if (m.TmpfsOptions) extra('TmpfsOptions');
      const propagation = m.BindOptions?.Propagation || DEFAULT_PROPAGATION;
      if (!PROPAGATIONS.includes(propagation)) throw invalid(`invalid mount config for type "bind": invalid propagation mode: ${propagation}`);
      const b = m.BindOptions ?? {};
      if ((b.ReadOnlyNonRecursive || b.ReadOnlyForceRecursive) && !m.ReadOnly) throw invalid(`invalid mount config for type "bind": must be read-only with ReadOnlyNonRecursive or ReadOnlyForceRecursive`);
      if (b.ReadOnlyNonRecursive && b.ReadOnlyForceRecursive) throw invalid(`invalid mount config for type "bind": cannot set both ReadOnlyNonRecursive and ReadOnlyForceRecursive`);
      if (b.ReadOnlyForceRecursive && (propagation !== 'rprivate' || b.NonRecursive)) throw invalid(`invalid mount config for type "bind": ReadOnlyForceRecursive needs rprivate propagation and a recursive bind`);
      return {
        kind: 'bind',
        source: posix.normalize(m.Source).replace(/(.)\/$/, '$1'),
        destination,
        readOnly: !!m.ReadOnly,
        mode: '',
        propagation,
        nonRecursive: !!m.BindOptions?.NonRecursive,
        createSource: !!m.BindOptions?.CreateMountpoint,
        ...(b.ReadOnlyForceRecursive ? { readOnlyForceRecursive: true } : {}),
      };
    }
    case 'volume': {
      const destination = cleanDestination(m.Target, 'volume');
      if (m.BindOptions) extra('BindOptions');
      if (m.TmpfsOptions) extra('TmpfsOptions');
      const driver = m.VolumeOptions?.DriverConfig?.Name;
      if (driver && driver !== 'local') throw invalid(`invalid mount config for type "volume": volume driver ${driver} is not supported: joey has the local driver only`);
      const driverOpts = { ...(m.VolumeOptions?.DriverConfig?.Options ?? {}) };
      if (Object.keys(driverOpts).length) checkLocalOptions(driverOpts);
      const subpath = m.VolumeOptions?.Subpath ? checkSubpath(m.VolumeOptions.Subpath) : undefined;
      return {
        kind: 'volume',
        ...(m.Source ? { name: checkVolumeName(m.Source) } : {}),
        destination,
        readOnly: !!m.ReadOnly,
        // dockerd shows "z" (its default copy mode) for --mount volumes.
        mode: 'z',
        copy: !m.VolumeOptions?.NoCopy,
        labels: { ...(m.VolumeOptions?.Labels ?? {}) },
        ...(Object.keys(driverOpts).length ? { driverOpts } : {}),
        ...(subpath ? { subpath } : {}),
      };
    }
    case 'tmpfs': {
      const destination = cleanDestination(m.Target, 'tmpfs');
      if (m.Source) extra('Source');
      if (m.BindOptions) extra('BindOptions');
      if (m.VolumeOptions) extra('VolumeOptions');
      return { kind: 'tmpfs', destination, readOnly: !!m.ReadOnly, options: tmpfsOptions(m.TmpfsOptions) };
    }
    default:
      throw invalid(`invalid mount config: mount type unknown: ${JSON.stringify(type ?? '')}${type === 'npipe' || type === 'cluster' ? ' (not supported on Linux)' : ''}`);
  }
}

/** Every mount of a new container: Binds and Mounts (one per destination),
 * then Config.Volumes (the image's VOLUMEs too) where neither put anything. */
export function planMounts(volumes: Record<string, unknown> | null | undefined, binds: string[] | null | undefined, mounts: MountSpec[] | null | undefined, inherited: Iterable<string> = []): MountRequest[] {
  const out: MountRequest[] = [];
  const taken = new Set<string>();
  // Destinations that --volumes-from fills: binds and mounts replace them, image VOLUMEs do not.
  const fromOthers = new Set(inherited);
  const add = (r: MountRequest): void => {
    if (taken.has(r.destination)) throw invalid(`Duplicate mount point: ${r.destination}`);
    taken.add(r.destination);
    out.push(r);
  };
  for (const b of binds ?? []) add(parseBind(b));
  for (const m of mounts ?? []) add(parseMountSpec(m));
  for (const dest of Object.keys(volumes ?? {})) {
    const r = parseBind(dest);
    if (r.kind !== 'volume' || r.name !== undefined) throw invalid(`invalid volume ${JSON.stringify(dest)} in Config.Volumes: expected a container path`);
    if (!taken.has(r.destination) && !fromOthers.has(r.destination)) add(r);
  }
  return out;
}

/** One HostConfig.VolumesFrom entry: "CONTAINER[:ro|rw]". */
export function parseVolumesFrom(spec: string): { container: string; mode: string } {
  if (typeof spec !== 'string' || spec === '') throw invalid('volume-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  if (i < 0) return { container: spec, mode: '' };
  const container = spec.slice(0, i);
  const mode = spec.slice(i + 1);
  if (!container) throw invalid(`invalid volumes-from specification: ${spec}`);
  // dockerd accepts any valid mount mode here; only ro/rw mean something for volumes-from.
  try {
    parseMode(mode);
  } catch {
    throw invalid(`invalid mode for volumes-from: ${mode}`);
  }
  return { container, mode: mode.split(',').includes('ro') ? 'ro' : 'rw' };
}
