// `joey create`/`joey run` flags → the POST /containers/create body, read as
// the docker CLI reads them: the same defaults, the same JSON (key order,
// nulls and empty values included), the same error texts.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { endpointBody } from './endpoint.ts';
import type { FlagKind, OptSpec } from './flag-spec.ts';
import { attributeName, flagName } from './flag-spec.ts';
import { parseCpus, parseGoDuration, parseGoInt, ramInBytes } from './go-values.ts';

// ---------------------------------------------------------------- flag values

/** A flag value pflag refuses: the caller shows it with the usage line. */
export class FlagValueError extends Error {
  constructor(flag: string, value: string, reason: string) {
    super(`invalid argument ${JSON.stringify(value)} for ${JSON.stringify(flag)} flag: ${reason}`);
    this.name = 'FlagValueError';
  }
}

export interface Ulimit {
  Name: string;
  Hard: number;
  Soft: number;
}

const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** go-units ParseUlimit: "nofile=1024[:2048]". */
export function parseUlimit(val: string): Ulimit {
  const eq = val.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${val}`);
  const name = val.slice(0, eq);
  if (!ULIMITS.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const parts = val.slice(eq + 1).split(':');
  if (parts.length > 2) throw new Error(`too many limit value arguments - ${val.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const hard = parts.length === 2 ? parseGoInt(parts[1]!, 64) : undefined;
  const soft = parseGoInt(parts[0]!, 64);
  const h = hard ?? soft;
  if (h !== -1) {
    if (soft === -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${h}`);
    if (soft > h) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${h}`);
  }
  return { Name: name, Hard: h, Soft: soft };
}

/** Go's net.IP.String() of a parsed address, or undefined when invalid. */
export function canonicalIp(s: string): string | undefined {
  const v = s.trim();
  const kind = net.isIP(v);
  if (kind === 4) return v;
  if (kind !== 6) return undefined;
  const host = new URL(`http://[${v}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const a = parseInt(mapped[1]!, 16);
    const b = parseInt(mapped[2]!, 16);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return host;
}

function validateIp(val: string): string {
  const ip = canonicalIp(val);
  if (ip === undefined) throw new Error(`IP address is not correctly formatted: ${val}`);
  return ip;
}

const DOMAIN_RE = /^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\.?\s*$/;

function validateDnsSearch(val: string): string {
  const v = val.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const m = /[a-zA-Z]/.test(v) ? DOMAIN_RE.exec(v) : null;
  if (m && m[1]!.length < 255) return m[1]!;
  throw new Error(`${v} is not a valid domain`);
}

function validateExtraHost(val: string): string {
  let sep = val.indexOf('=');
  if (sep < 0) sep = val.indexOf(':');
  const k = sep < 0 ? '' : val.slice(0, sep);
  let v = sep < 0 ? '' : val.slice(sep + 1);
  if (sep < 0 || k === '' || k.includes(':')) throw new Error(`bad format for add-host: ${JSON.stringify(val)}`);
  if (v !== 'host-gateway') {
    if (v.length > 2 && v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
    if (canonicalIp(v) === undefined) throw new Error(`invalid IP address in add-host: ${JSON.stringify(v)}`);
  }
  return `${k}:${v}`;
}

function validateLink(val: string): string {
  if (val === '') throw new Error('empty string specified for links');
  if (val.split(':').length > 2) throw new Error('bad format for links: ' + val);
  return val;
}

const SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

function validateSysctl(val: string): string {
  const eq = val.indexOf('=');
  const k = eq < 0 ? '' : val.slice(0, eq);
  if (k !== '' && (SYSCTLS.has(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.'))) return val;
  throw new Error(`sysctl '${val}' is not allowed`);
}

function validateLabel(val: string): string {
  const key = val.split('=')[0]!.replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${val}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return val;
}

/** docker's ValidateEnv: "NAME" takes the value from the CLI's environment. */
function validateEnv(val: string, env: Record<string, string | undefined>): string {
  const eq = val.indexOf('=');
  const k = eq < 0 ? val : val.slice(0, eq);
  if (k === '') throw new Error('invalid environment variable: ' + val);
  if (eq >= 0) return val;
  return env[k] !== undefined ? `${k}=${env[k]}` : val;
}

interface BlkioDevice {
  Path: string;
  Weight?: number;
  Rate?: number;
}

function deviceValue(kind: 'weight-device' | 'bps-device' | 'iops-device', val: string): BlkioDevice {
  const i = val.indexOf(':');
  const k = i < 0 ? '' : val.slice(0, i);
  const v = val.slice(i + 1);
  if (i < 0 || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  if (kind === 'weight-device') {
    let w: number;
    try {
      w = parseGoInt(v, 16, { unsigned: true });
    } catch {
      throw new Error(`invalid weight for device: ${val}`);
    }
    if (w > 0 && (w < 10 || w > 1000)) throw new Error(`invalid weight for device: ${val}`);
    return { Path: k, Weight: w };
  }
  if (kind === 'bps-device') {
    let rate: number;
    try {
      rate = ramInBytes(v);
    } catch {
      rate = -1;
    }
    if (rate < 0) {
      throw new Error(
        `invalid rate for device: ${val}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`,
      );
    }
    return { Path: k, Rate: rate };
  }
  try {
    return { Path: k, Rate: parseGoInt(v, 64, { unsigned: true }) };
  } catch {
    throw new Error(`invalid rate for device: ${val}. The correct format is <device-path>:<number>. Number must be a positive integer`);
  }
}

/** Go's encoding/csv for one record: commas, and double quotes around fields. */
export function csvFields(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        const q = s.indexOf('"', i);
        if (q < 0) throw new Error(`parse error on line 1, column ${s.length + 1}: extraneous or missing " in quoted-field`);
        field += s.slice(i, q);
        i = q + 1;
        if (s[i] === '"') {
          field += '"';
          i++;
          continue;
        }
        break;
      }
      if (i < s.length && s[i] !== ',') throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
    } else {
      const c = s.indexOf(',', i);
      field = c < 0 ? s.slice(i) : s.slice(i, c);
      if (field.includes('"')) throw new Error(`parse error on line 1, column ${i + field.indexOf('"') + 1}: bare " in non-quoted-field`);
      i = c < 0 ? s.length : c;
    }
    out.push(field);
    if (i >= s.length) return out;
    i++; // the comma
  }
}

const parseBool = (v: string): boolean | undefined =>
  ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v) ? true : ['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v) ? false : undefined;

export interface Mount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: Record<string, unknown>;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  ImageOptions?: { Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** docker's MountOpt.Set: "type=bind,source=/a,target=/b,readonly". */
export function parseMount(value: string, cwd: string): Mount {
  const m: Mount = { Type: 'volume' };
  let volume: NonNullable<Mount['VolumeOptions']> | undefined;
  let bind: Record<string, unknown> | undefined;
  let tmpfs: NonNullable<Mount['TmpfsOptions']> | undefined;
  let image: NonNullable<Mount['ImageOptions']> | undefined;
  const volumeOptions = () => {
    volume ??= { Labels: {} };
    volume.DriverConfig ??= {};
    return volume;
  };
  const bindOptions = () => (bind ??= {});
  const tmpfsOptions = () => (tmpfs ??= {});
  const setOnMap = (target: Record<string, string>, v: string) => {
    const i = v.indexOf('=');
    const k = i < 0 ? v : v.slice(0, i);
    if (k !== '') target[k] = i < 0 ? '' : v.slice(i + 1);
  };
  const bool = (key: string, v: string, msg = `invalid value for ${key}: ${v}`) => {
    const b = parseBool(v);
    if (b === undefined) throw new Error(msg);
    return b;
  };
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') m.ReadOnly = true;
      else if (key === 'volume-nocopy') volumeOptions().NoCopy = true;
      else if (key === 'bind-nonrecursive') bindOptions().NonRecursive = true;
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type':
        m.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        m.Source = !path.isAbsolute(val) && val.startsWith('.') ? path.resolve(cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = bool(key, val);
        break;
      case 'consistency':
        m.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bindOptions().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = bool(key, val);
        break;
      case 'bind-recursive':
        if (val === 'disabled') bindOptions().NonRecursive = true;
        else if (val === 'writable') bindOptions().ReadOnlyNonRecursive = true;
        else if (val === 'readonly') bindOptions().ReadOnlyForceRecursive = true;
        else if (val === 'enabled') bindOptions();
        else throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = val;
        break;
      case 'volume-nocopy':
        volumeOptions().NoCopy = bool(key, val, `invalid value for volume-nocopy: ${val}`);
        break;
      case 'volume-label':
        setOnMap(volumeOptions().Labels!, val);
        break;
      case 'volume-driver':
        volumeOptions().DriverConfig!.Name = val;
        break;
      case 'volume-opt':
        setOnMap((volumeOptions().DriverConfig!.Options ??= {}), val);
        break;
      case 'image-subpath':
        (image ??= {}).Subpath = val;
        break;
      case 'tmpfs-size':
        try {
          tmpfsOptions().SizeBytes = ramInBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        break;
      case 'tmpfs-mode':
        try {
          tmpfsOptions().Mode = parseGoInt(val, 32, { unsigned: true, base: 8 });
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Type) throw new Error('type is required');
  if (!m.Target) throw new Error('target is required');
  if (volume && m.Type !== 'volume') throw new Error(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (image && m.Type !== 'image') throw new Error(`cannot mix 'image-*' options with mount type '${m.Type}'`);
  if (bind && m.Type !== 'bind') throw new Error(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (tmpfs && m.Type !== 'tmpfs') throw new Error(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  if (bind?.ReadOnlyNonRecursive && !m.ReadOnly) throw new Error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  if (bind?.ReadOnlyForceRecursive) {
    if (!m.ReadOnly) throw new Error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
    if (bind.Propagation !== 'rprivate') throw new Error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
  }
  // the JSON as Go's omitempty writes it
  const out: Mount = {};
  if (m.Type) out.Type = m.Type;
  if (m.Source) out.Source = m.Source;
  out.Target = m.Target;
  if (m.ReadOnly) out.ReadOnly = true;
  if (m.Consistency) out.Consistency = m.Consistency;
  if (bind) out.BindOptions = omitEmpty(bind, ['Propagation', 'NonRecursive', 'CreateMountpoint', 'ReadOnlyNonRecursive', 'ReadOnlyForceRecursive']);
  if (volume) {
    const v: Record<string, unknown> = {};
    if (volume.NoCopy) v.NoCopy = true;
    if (volume.Labels && Object.keys(volume.Labels).length > 0) v.Labels = sortedMap(volume.Labels);
    if (volume.Subpath) v.Subpath = volume.Subpath;
    if (volume.DriverConfig) {
      const d: Record<string, unknown> = {};
      if (volume.DriverConfig.Name) d.Name = volume.DriverConfig.Name;
      if (volume.DriverConfig.Options && Object.keys(volume.DriverConfig.Options).length > 0) d.Options = sortedMap(volume.DriverConfig.Options);
      v.DriverConfig = d;
    }
    out.VolumeOptions = v;
  }
  if (image) out.ImageOptions = image.Subpath ? { Subpath: image.Subpath } : {};
  if (tmpfs) out.TmpfsOptions = omitEmpty(tmpfs as Record<string, unknown>, ['SizeBytes', 'Mode']);
  return out;
}

function omitEmpty(o: Record<string, unknown>, order: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of order) if (o[k] !== undefined && o[k] !== false && o[k] !== 0 && o[k] !== '') out[k] = o[k];
  return out;
}

export interface NetworkAttachment {
  Target: string;
  Aliases?: string[];
  DriverOpts?: Record<string, string>;
  Links?: string[];
  IPv4Address?: string;
  IPv6Address?: string;
  LinkLocalIPs?: string[];
  MacAddress?: string;
  GwPriority?: number;
}

/** docker's NetworkOpt.Set: a name, or "name=n,alias=a,ip=…" */
export function parseNetworkOpt(value: string): NetworkAttachment {
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return { Target: value };
  const n: NetworkAttachment = { Target: '', Aliases: [] };
  for (const field of csvFields(value)) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name':
        n.Target = val;
        break;
      case 'alias':
        n.Aliases!.push(val);
        break;
      case 'ip':
        n.IPv4Address = val;
        break;
      case 'ip6':
        n.IPv6Address = val;
        break;
      case 'mac-address':
        n.MacAddress = val;
        break;
      case 'link-local-ip':
        (n.LinkLocalIPs ??= []).push(val);
        break;
      case 'driver-opt': {
        const i = val.indexOf('=');
        if (i <= 0) throw new Error('invalid key value pair format in driver options');
        (n.DriverOpts ??= {})[val.slice(0, i).trim()] = val.slice(i + 1).trim();
        break;
      }
      case 'gw-priority':
        try {
          n.GwPriority = parseGoInt(val, 64);
        } catch (err) {
          const reason = /value out of range/.test((err as Error).message) ? 'value out of range' : 'invalid syntax';
          throw new Error(`invalid gw-priority (${val}): ${reason}`);
        }
        break;
      default:
        throw new Error('invalid field key ' + key);
    }
  }
  if (!n.Target) throw new Error('network name/id is not specified');
  return n;
}

const DEVICE_CGROUP_RULE = /^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/;

/** Checks (and normalizes) one value of a flag of the given kind. */
export function checkValue(kind: FlagKind, v: string, ctx: { env: Record<string, string | undefined>; cwd: string }): unknown {
  switch (kind) {
    case 'int':
      return parseGoInt(v, 64, { base: 0 });
    case 'uint16':
      return parseGoInt(v, 16, { unsigned: true, base: 0 });
    case 'uint64':
      return parseGoInt(v, 64, { unsigned: true, base: 0 });
    case 'bytes':
      return ramInBytes(v);
    case 'swap':
      return v === '-1' ? -1 : ramInBytes(v);
    case 'cpus':
      return parseCpus(v);
    case 'duration':
      return parseGoDuration(v);
    case 'ulimit':
      return parseUlimit(v);
    case 'env':
      return validateEnv(v, ctx.env);
    case 'label':
      return validateLabel(v);
    case 'attach': {
      const s = v.toLowerCase();
      if (s === 'stdin' || s === 'stdout' || s === 'stderr') return s;
      throw new Error('valid streams are STDIN, STDOUT and STDERR');
    }
    case 'ip':
      return validateIp(v);
    case 'dns-search':
      return validateDnsSearch(v);
    case 'add-host':
      return validateExtraHost(v);
    case 'link':
      return validateLink(v);
    case 'sysctl':
      return validateSysctl(v);
    case 'device-cgroup-rule':
      if (!DEVICE_CGROUP_RULE.test(v)) throw new Error(`invalid device cgroup format '${v}'`);
      return v;
    case 'mount':
      return parseMount(v, ctx.cwd);
    case 'network':
      return parseNetworkOpt(v);
    case 'weight-device':
    case 'bps-device':
    case 'iops-device':
      return deviceValue(kind, v);
  }
}

/** Checks every typed flag that was given, in the order of `specs`, and
 * returns the values by attribute name (lists stay lists). */
export function checkFlags(specs: OptSpec[], opts: Record<string, unknown>, ctx: { env: Record<string, string | undefined>; cwd: string }): Record<string, unknown> {
  const out: Record<string, unknown> = { ...opts };
  for (const spec of specs) {
    if (!spec.kind) continue;
    const attr = attributeName(spec.flags);
    const raw = opts[attr];
    if (raw === undefined) continue;
    const one = (v: string) => {
      try {
        return checkValue(spec.kind!, v, ctx);
      } catch (err) {
        throw new FlagValueError(flagName(spec.flags), v, (err as Error).message);
      }
    };
    out[attr] = Array.isArray(raw) ? raw.map((v) => one(String(v))) : one(String(raw));
  }
  return out;
}

// ---------------------------------------------------------------- the body

/** The values of the container flags after checkFlags. */
export interface ContainerFlags {
  [attr: string]: unknown;
}

export interface ParseContext {
  image: string;
  args: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** [rows, columns] of the output terminal, [0, 0] when not a terminal. */
  consoleSize?: [number, number];
}

/** The create request with its JSON shape (Config, HostConfig, NetworkingConfig in one). */
export type CreateBody = Record<string, unknown> & { HostConfig: Record<string, unknown>; NetworkingConfig: { EndpointsConfig: Record<string, unknown> } };

const strs = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

function sortedMap<T>(m: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

/** kvfile.Parse: KEY=value lines; a bare KEY takes the CLI's value when `lookup`. */
export function parseKvFile(file: string, lookup?: (k: string) => string | undefined): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(openError(err, file));
  }
  const out: string[] = [];
  const lines = text.split(/\r?\n|\r/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (i === 0) line = line.replace(/^\uFEFF/, '');
    line = line.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (key === '') throw new Error(`invalid env file (${file}): no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new Error(`invalid env file (${file}): variable '${key}' contains whitespaces`);
    if (eq >= 0) out.push(line);
    else if (lookup) {
      const v = lookup(line);
      if (v !== undefined) out.push(`${key}=${v}`);
    }
  }
  return out;
}

/** Go's *PathError text: "open x: no such file or directory". */
export function openError(err: unknown, file: string): string {
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
  };
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return `open ${file}: ${reasons[code] ?? (err as Error).message}`;
}

interface Volume {
  Source: string;
  Target: string;
  Type: 'bind' | 'volume';
}

/** The compose loader's ParseVolume, as `-v` uses it. */
export function parseVolume(spec: string): Volume {
  if (spec.length === 0) throw new Error('invalid empty volume spec');
  if ([...spec].length <= 2) return { Source: '', Target: spec, Type: 'volume' };
  const v: Volume = { Source: '', Target: '', Type: 'volume' };
  let buffer = '';
  const chars = [...spec, '\0'];
  const isDrive = (buf: string, c: string) => c === ':' && [...buf].length === 1 && /\p{L}/u.test(buf);
  for (const c of chars) {
    if (isDrive(buffer, c)) buffer += c;
    else if (c === ':' || c === '\0') {
      let err: string | undefined;
      if (buffer.length === 0) err = 'empty section between colons';
      else if (v.Source === '' && c === '\0') v.Target = buffer;
      else if (v.Source === '') v.Source = buffer;
      else if (v.Target === '') v.Target = buffer;
      else if (c === ':') err = 'too many colons';
      if (err) throw new Error(`invalid spec: ${spec}: ${err}`);
      buffer = '';
    } else buffer += c;
  }
  const s = v.Source;
  const isFilePath =
    s !== '' &&
    ('./~'.includes(s[0]!) || ([...s].length > 1 && (s.startsWith('\\\\') || isDrive(s[0]!, s[1]!))));
  v.Type = isFilePath ? 'bind' : 'volume';
  return v;
}

function splitProtoPort(raw: string): [proto: string, port: string] {
  const parts = raw.split('/');
  if (raw.length === 0 || parts[0]!.length === 0) return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1]!.length === 0) return ['tcp', parts[0]!];
  return [parts[1]!, parts[0]!];
}

/** nat.ParsePortRange */
function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const p = parseGoInt(ports, 16, { unsigned: true });
    return [p, p];
  }
  const parts = ports.split('-');
  const start = parseGoInt(parts[0]!, 16, { unsigned: true });
  const end = parseGoInt(parts[1]!, 16, { unsigned: true });
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

function natPort(proto: string, start: number, end: number): string {
  return start === end ? `${start}/${proto}` : `${start}-${end}/${proto}`;
}

/** nat.ParsePortSpec: "[ip:][hostPort:]containerPort[/proto]" with ranges. */
export function parsePortSpec(raw: string): Array<{ port: string; HostIp: string; HostPort: string }> {
  const parts = raw.split(':');
  const n = parts.length;
  let containerPort = parts[n - 1]!;
  let ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
  const hostPortRaw = n >= 2 ? parts[n - 2]! : '';
  let proto: string;
  [proto, containerPort] = splitProtoPort(containerPort);
  if (ip !== '' && ip[0] === '[') {
    const m = /^\[([^\]]*)\]$/.exec(ip);
    if (!m) throw new Error(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
    ip = m[1]!;
  }
  if (ip !== '' && canonicalIp(ip) === undefined) throw new Error(`invalid IP address: ${ip}`);
  if (containerPort === '') throw new Error(`no port specified: ${raw}<empty>`);
  let start: number;
  let end: number;
  try {
    [start, end] = parsePortRange(containerPort);
  } catch {
    throw new Error(`invalid containerPort: ${containerPort}`);
  }
  let hStart = 0;
  let hEnd = 0;
  if (hostPortRaw.length > 0) {
    try {
      [hStart, hEnd] = parsePortRange(hostPortRaw);
    } catch {
      throw new Error(`invalid hostPort: ${hostPortRaw}`);
    }
  }
  if (hostPortRaw !== '' && end - start !== hEnd - hStart && end !== start) {
    throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPortRaw}`);
  }
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new Error(`invalid proto: ${proto}`);
  const out: Array<{ port: string; HostIp: string; HostPort: string }> = [];
  for (let i = 0; i <= end - start; i++) {
    let hostPort = hostPortRaw;
    if (hostPortRaw.length > 0) hostPort = String(hStart + i);
    if (start === end && hStart !== hEnd) hostPort = `${hostPort}-${hEnd}`;
    out.push({ port: natPort(proto.toLowerCase(), start + i, start + i), HostIp: ip, HostPort: hostPort });
  }
  return out;
}

/** `-p published=8080,target=80,protocol=udp` → "8080:80/udp". */
function toStandardNotation(publish: string): string {
  if (!publish.includes('=')) return publish;
  const params: Record<string, string> = { protocol: 'tcp' };
  for (const param of publish.split(',')) {
    const eq = param.indexOf('=');
    if (eq <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${param}')`);
    params[param.slice(0, eq)] = param.slice(eq + 1);
  }
  return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
}

const validDeviceMode = (mode: string): boolean => mode !== '' && /^[rwm]+$/.test(mode) && new Set(mode).size === mode.length;

/** validateLinuxPath + parseLinuxDevice for `--device`. */
function parseDevice(val: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  if (val.split(':').length - 1 > 2) throw new Error(`bad format for path: ${val}`);
  const split = val.split(':');
  if (split[0] === '') throw new Error(`bad format for path: ${val}`);
  let containerPath: string;
  let validated: string;
  if (split.length === 1) {
    containerPath = split[0]!;
    validated = path.posix.normalize(containerPath);
  } else if (split.length === 2) {
    if (validDeviceMode(split[1]!)) {
      containerPath = split[0]!;
      validated = `${path.posix.normalize(containerPath)}:${split[1]}`;
    } else {
      containerPath = split[1]!;
      validated = `${split[0]}:${path.posix.normalize(containerPath)}`;
    }
  } else {
    containerPath = split[1]!;
    if (!validDeviceMode(split[2]!)) throw new Error(`bad mode specified: ${split[2]}`);
    validated = val;
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  const arr = validated.split(':');
  let src = arr[0]!;
  let dst = '';
  let perms = 'rwm';
  if (arr.length === 3) perms = arr[2]!;
  if (arr.length >= 2) {
    if (validDeviceMode(arr[1]!)) perms = arr[1]!;
    else dst = arr[1]!;
  }
  src = arr[0]!;
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: perms };
}

const CDI_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?\/[a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?=[a-zA-Z0-9_.:-]+$/;

const isUserDefinedNetwork = (n: string): boolean => !['default', 'bridge', 'host', 'none'].includes(n) && !n.startsWith('container:');

function containerRef(val: string): string | undefined {
  const i = val.indexOf(':');
  return i >= 0 && val.slice(0, i) === 'container' ? val.slice(i + 1) : undefined;
}

/** Go's net.ParseMAC for the usual colon/dash forms. */
function validMac(s: string): boolean {
  return /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(s.trim()) || /^([0-9a-fA-F]{2}[:-]){19}[0-9a-fA-F]{2}$/.test(s.trim()) || /^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/.test(s.trim());
}

function endpointSettings(n: NetworkAttachment): Record<string, unknown> {
  if (n.Target.trim() === '') throw new Error('no name set for network');
  if (!isUserDefinedNetwork(n.Target)) {
    if ((n.Aliases ?? []).length > 0) throw new Error('network-scoped aliases are only supported for user-defined networks');
    if ((n.Links ?? []).length > 0) throw new Error('links are only supported for user-defined networks');
  }
  let ipam: Record<string, unknown> | null = null;
  if (n.IPv4Address || n.IPv6Address || (n.LinkLocalIPs ?? []).length > 0) {
    ipam = {};
    if (n.IPv4Address) ipam.IPv4Address = n.IPv4Address;
    if (n.IPv6Address) ipam.IPv6Address = n.IPv6Address;
    if ((n.LinkLocalIPs ?? []).length > 0) ipam.LinkLocalIPs = n.LinkLocalIPs;
  }
  if (n.MacAddress && !validMac(n.MacAddress)) throw new Error(`${n.MacAddress} is not a valid mac address`);
  return endpointBody({
    IPAMConfig: ipam,
    Links: n.Links && n.Links.length > 0 ? n.Links : null,
    Aliases: n.Aliases && n.Aliases.length > 0 ? [...n.Aliases] : null,
    MacAddress: n.MacAddress ?? '',
    DriverOpts: n.DriverOpts && Object.keys(n.DriverOpts).length > 0 ? sortedMap(n.DriverOpts) : null,
    GwPriority: n.GwPriority ?? 0,
  });
}

const isEmptyEndpoint = (ep: Record<string, unknown>): boolean =>
  ep.IPAMConfig === null && ep.Links === null && ep.Aliases === null && ep.MacAddress === '' && ep.DriverOpts === null && ep.GwPriority === 0;

function networkingConfig(v: ContainerFlags): Record<string, unknown> {
  const nets = [...((v.net as NetworkAttachment[] | undefined) ?? []), ...((v.network as NetworkAttachment[] | undefined) ?? [])];
  const aliases = [...strs(v.netAlias), ...strs(v.networkAlias)];
  const links = strs(v.link);
  const ip = str(v.ip);
  const ip6 = str(v.ip6);
  const mac = str(v.macAddress);
  const linkLocal = strs(v.linkLocalIp);
  const apply = (n: NetworkAttachment): NetworkAttachment => {
    const conflict = (msg: string) => new Error(`conflicting options: cannot specify both ${msg}`);
    if ((n.Aliases ?? []).length > 0 && aliases.length > 0) throw conflict('--network-alias and per-network alias');
    if ((n.Links ?? []).length > 0 && links.length > 0) throw conflict('--link and per-network links');
    if (n.IPv4Address && ip) throw conflict('--ip and per-network IPv4 address');
    if (n.IPv6Address && ip6) throw conflict('--ip6 and per-network IPv6 address');
    if (n.MacAddress && mac) throw conflict('--mac-address and per-network MAC address');
    if ((n.LinkLocalIPs ?? []).length > 0 && linkLocal.length > 0) throw conflict('--link-local-ip and per-network link-local IP addresses');
    const out = { ...n };
    if (aliases.length > 0) out.Aliases = [...aliases];
    if (isUserDefinedNetwork(n.Target) && links.length > 0) out.Links = [...links];
    if (ip) out.IPv4Address = ip;
    if (ip6) out.IPv6Address = ip6;
    if (mac) out.MacAddress = mac;
    if (linkLocal.length > 0) out.LinkLocalIPs = [...linkLocal];
    return out;
  };
  const endpoints: Record<string, unknown> = {};
  if (nets.length === 0) endpoints.default = endpointSettings(apply({ Target: 'default' }));
  let userDefined = false;
  let other = false;
  nets.forEach((n, i) => {
    if (isUserDefinedNetwork(n.Target)) userDefined = true;
    else other = true;
    const ep = endpointSettings(i === 0 ? apply(n) : n);
    if (n.Target in endpoints) throw new Error(`network ${JSON.stringify(n.Target)} is specified multiple times`);
    if (i === 0 && nets.length === 1 && isEmptyEndpoint(ep)) return;
    endpoints[n.Target] = ep;
  });
  if (userDefined && other) throw new Error('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return endpoints;
}

function parseRestartPolicy(policy: string): { Name: string; MaximumRetryCount: number } {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const i = policy.indexOf(':');
  const k = i < 0 ? policy : policy.slice(0, i);
  const v = i < 0 ? '' : policy.slice(i + 1);
  if (i >= 0 && k === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let count = 0;
  if (v !== '') {
    try {
      count = parseGoInt(v, 64);
    } catch {
      throw new Error('invalid restart policy format: maximum retry count must be an integer');
    }
  }
  return { Name: k, MaximumRetryCount: count };
}

export { parseRestartPolicy };

function parseSecurityOpts(opts: string[]): string[] {
  return opts.map((opt) => {
    let i = opt.indexOf('=');
    let k = i < 0 ? opt : opt.slice(0, i);
    if (i < 0 && k !== 'no-new-privileges') {
      i = opt.indexOf(':');
      k = i < 0 ? opt : opt.slice(0, i);
    }
    const v = i < 0 ? '' : opt.slice(i + 1);
    if ((i < 0 || v === '') && k !== 'no-new-privileges') throw new Error(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (k === 'seccomp' && v !== 'builtin' && v !== 'unconfined') {
      let text: string;
      try {
        text = readFileSync(v, 'utf8');
      } catch (err) {
        throw new Error(`opening seccomp profile (${v}) failed: ${openError(err, v)}`);
      }
      try {
        return `seccomp=${JSON.stringify(JSON.parse(text))}`;
      } catch (err) {
        throw new Error(`compacting json for seccomp profile (${v}) failed: ${(err as Error).message}`);
      }
    }
    return opt;
  });
}

/** Turns checked flag values into docker's create body. Throws the errors
 * that docker's parse() gives (shown as "joey: …", exit 125). */
export function buildCreateBody(v: ContainerFlags, ctx: ParseContext): CreateBody {
  const attach = strs(v.attach);
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  const mac = str(v.macAddress);
  if (mac !== '' && !validMac(mac)) throw new Error(`${mac} is not a valid mac address`);
  if (v.interactive) attachStdin = true;
  if (attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
  }
  const swappiness = v.memorySwappiness === undefined ? -1 : num(v.memorySwappiness);
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw new Error(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);

  // -v: named/anonymous volumes stay in Config.Volumes, binds go to HostConfig
  const volumes = new Set(strs(v.volume));
  const binds: string[] = [];
  for (const bind of [...volumes]) {
    const parsed = parseVolume(bind);
    if (parsed.Source === '') continue;
    let toBind = bind;
    if (parsed.Type === 'bind') {
      const i = bind.indexOf(':');
      if (i >= 0) {
        let host = bind.slice(0, i);
        if (!path.isAbsolute(host) && host.startsWith('.')) host = path.resolve(ctx.cwd, host);
        toBind = `${host}:${bind.slice(i + 1)}`;
      }
    }
    binds.push(toBind);
    volumes.delete(bind);
  }

  const tmpfs: Record<string, string> = {};
  for (const t of strs(v.tmpfs)) {
    const i = t.indexOf(':');
    tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
  }

  let entrypoint: string[] | null = null;
  if (str(v.entrypoint) !== '') entrypoint = [str(v.entrypoint)];
  else if (v.entrypoint === '') entrypoint = [''];

  const exposed = new Map<string, true>();
  const bindings = new Map<string, Array<{ HostIp: string; HostPort: string }>>();
  for (const p of strs(v.publish).map(toStandardNotation)) {
    for (const m of parsePortSpec(p)) {
      exposed.set(m.port, true);
      const list = bindings.get(m.port) ?? [];
      list.push({ HostIp: m.HostIp, HostPort: m.HostPort });
      bindings.set(m.port, list);
    }
  }
  for (const e of strs(v.expose)) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(port);
    } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let i = start; i <= end; i++) exposed.set(natPort(proto, i, i), true);
  }

  const devices: Array<Record<string, string>> = [];
  const cdi: string[] = [];
  for (const d of strs(v.device)) {
    if (CDI_NAME.test(d)) cdi.push(d);
    else devices.push(parseDevice(d));
  }

  const lookup = (k: string) => ctx.env[k];
  const envFromFiles = strs(v.envFile).flatMap((f) => parseKvFile(f, lookup));
  // docker passes -e values through a map (for proxy settings): one per name, the last value
  const envMap = new Map<string, string | null>();
  for (const e of strs(v.env)) {
    const i = e.indexOf('=');
    envMap.set(i < 0 ? e : e.slice(0, i), i < 0 ? null : e.slice(i + 1));
  }
  const env = [...envFromFiles, ...[...envMap].map(([k, val]) => (val === null ? k : `${k}=${val}`))];
  const labelList = [...strs(v.labelFile).flatMap((f) => parseKvFile(f)), ...strs(v.label)];
  const labels: Record<string, string> = {};
  for (const l of labelList) {
    const i = l.indexOf('=');
    labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }

  const pid = str(v.pid);
  if (!(pid === '' || pid === 'host' || (containerRef(pid) ?? '') !== '')) throw new Error('--pid: invalid PID mode');
  const uts = str(v.uts);
  if (!(uts === '' || uts === 'host')) throw new Error('--uts: invalid UTS mode');
  const userns = str(v.userns);
  if (!(userns === '' || userns === 'host')) throw new Error('--userns: invalid USER mode');
  const cgroupns = str(v.cgroupns);
  if (!['', 'host', 'private'].includes(cgroupns)) throw new Error('--cgroupns: invalid CGROUP mode');

  const restart = parseRestartPolicy(v.restart === undefined ? 'no' : str(v.restart));
  const logDriver = str(v.logDriver);
  const logOpts = strs(v.logOpt);
  if (logDriver === 'none' && logOpts.length > 0) throw new Error(`invalid logging opts for driver ${logDriver}`);
  const logConfig: Record<string, string> = {};
  for (const o of logOpts) {
    const i = o.indexOf('=');
    logConfig[i < 0 ? o : o.slice(0, i)] = i < 0 ? '' : o.slice(i + 1);
  }

  const securityGiven = strs(v.securityOpt);
  let securityOpt: string[] | null = securityGiven.length > 0 ? parseSecurityOpts(securityGiven) : null;
  let maskedPaths: string[] | null = null;
  let readonlyPaths: string[] | null = null;
  if (securityOpt) {
    if (securityOpt.includes('systempaths=unconfined')) {
      maskedPaths = [];
      readonlyPaths = [];
    }
    securityOpt = securityOpt.filter((o) => o !== 'systempaths=unconfined');
  }

  const storageOpt: Record<string, string> = {};
  for (const o of strs(v.storageOpt)) {
    const i = o.indexOf('=');
    if (i < 0) throw new Error('invalid storage option');
    storageOpt[o.slice(0, i)] = o.slice(i + 1);
  }

  let healthcheck: Record<string, unknown> | undefined;
  const h = {
    cmd: str(v.healthCmd),
    interval: num(v.healthInterval),
    timeout: num(v.healthTimeout),
    startPeriod: num(v.healthStartPeriod),
    startInterval: num(v.healthStartInterval),
    retries: num(v.healthRetries),
  };
  const haveHealth = h.cmd !== '' || h.interval !== 0 || h.timeout !== 0 || h.startPeriod !== 0 || h.retries !== 0 || h.startInterval !== 0;
  if (v.healthcheck === false) {
    if (haveHealth) throw new Error('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    if (h.interval < 0) throw new Error('--health-interval cannot be negative');
    if (h.timeout < 0) throw new Error('--health-timeout cannot be negative');
    if (h.retries < 0) throw new Error('--health-retries cannot be negative');
    if (h.startPeriod < 0) throw new Error('--health-start-period cannot be negative');
    if (h.startInterval < 0) throw new Error('--health-start-interval cannot be negative');
    healthcheck = {};
    if (h.cmd !== '') healthcheck.Test = ['CMD-SHELL', h.cmd];
    if (h.interval) healthcheck.Interval = h.interval;
    if (h.timeout) healthcheck.Timeout = h.timeout;
    if (h.startPeriod) healthcheck.StartPeriod = h.startPeriod;
    if (h.startInterval) healthcheck.StartInterval = h.startInterval;
    if (h.retries) healthcheck.Retries = h.retries;
  }

  const deviceRequests = cdi.length > 0 ? [{ Driver: 'cdi', Count: 0, DeviceIDs: cdi, Capabilities: null, Options: null }] : null;
  const ulimits = new Map<string, Ulimit>();
  for (const u of (v.ulimit as Ulimit[] | undefined) ?? []) ulimits.set(u.Name, u);
  const sysctls: Record<string, string> = {};
  for (const s of strs(v.sysctl)) {
    const i = s.indexOf('=');
    sysctls[s.slice(0, i)] = s.slice(i + 1);
  }
  const annotations: Record<string, string> = {};
  for (const s of strs(v.annotation)) {
    const i = s.indexOf('=');
    annotations[i < 0 ? s : s.slice(0, i)] = i < 0 ? '' : s.slice(i + 1);
  }

  const autoRemove = !!v.rm;
  if (autoRemove && !(restart.Name === 'no' || restart.Name === '')) throw new Error('conflicting options: cannot specify both --restart and --rm');
  const networkMode = [...((v.net as NetworkAttachment[] | undefined) ?? []), ...((v.network as NetworkAttachment[] | undefined) ?? [])][0]?.Target ?? 'default';
  const endpoints = networkingConfig(v);

  const openStdin = !!v.interactive;
  const config: Record<string, unknown> = {
    Hostname: str(v.hostname),
    Domainname: str(v.domainname),
    User: str(v.user),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
  };
  if (exposed.size > 0) config.ExposedPorts = Object.fromEntries([...exposed.keys()].sort().map((k) => [k, {}]));
  Object.assign(config, {
    Tty: !!v.tty,
    OpenStdin: openStdin,
    StdinOnce: openStdin && attachStdin,
    Env: env.length > 0 ? env : null,
    Cmd: ctx.args.length > 0 ? ctx.args : null,
  });
  if (healthcheck) config.Healthcheck = healthcheck;
  Object.assign(config, {
    Image: ctx.image,
    Volumes: Object.fromEntries([...volumes].sort().map((k) => [k, {}])),
    WorkingDir: str(v.workdir),
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: sortedMap(labels),
  });
  if (str(v.stopSignal)) config.StopSignal = str(v.stopSignal);
  if (v.stopTimeout !== undefined) config.StopTimeout = num(v.stopTimeout);
  // joey's own (PouchContainer's names), only when asked for
  if (v.rich) config.Rich = true;
  if (str(v.richMode)) config.RichMode = str(v.richMode);
  // The daemon gives systemd containers a terminal (their /dev/console); attach must know.
  if (v.rich && str(v.richMode) === 'systemd') config.Tty = true;
  if (str(v.initscript)) config.InitScript = str(v.initscript);
  const quota = strs(v.diskQuota);
  if (quota.length > 0) config.DiskQuota = parseDiskQuota(quota);
  if (str(v.quotaId)) config.QuotaID = str(v.quotaId);

  const hostConfig: Record<string, unknown> = {
    Binds: binds.length > 0 ? binds : null,
    ContainerIDFile: str(v.cidfile),
    LogConfig: { Type: logDriver, Config: sortedMap(logConfig) },
    NetworkMode: networkMode,
    PortBindings: Object.fromEntries([...bindings.keys()].sort().map((k) => [k, bindings.get(k)])),
    RestartPolicy: restart,
    AutoRemove: autoRemove,
    VolumeDriver: str(v.volumeDriver),
    VolumesFrom: strs(v.volumesFrom).length > 0 ? strs(v.volumesFrom) : null,
    ConsoleSize: ctx.consoleSize ?? [0, 0],
  };
  if (Object.keys(annotations).length > 0) hostConfig.Annotations = sortedMap(annotations);
  const caps = (list: string[]) => {
    const set = [...new Set(list.map((c) => (c.toUpperCase() === 'ALL' || c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`)))].sort();
    return set.length > 0 ? set : null;
  };
  Object.assign(hostConfig, {
    CapAdd: caps(strs(v.capAdd)),
    CapDrop: caps(strs(v.capDrop)),
    CgroupnsMode: cgroupns,
    Dns: strs(v.dns),
    DnsOptions: [...strs(v.dnsOpt), ...strs(v.dnsOption)],
    DnsSearch: strs(v.dnsSearch),
    ExtraHosts: strs(v.addHost).length > 0 ? strs(v.addHost) : null,
    GroupAdd: strs(v.groupAdd).length > 0 ? strs(v.groupAdd) : null,
    IpcMode: str(v.ipc),
    Cgroup: '',
    Links: strs(v.link).length > 0 ? strs(v.link) : null,
    OomScoreAdj: num(v.oomScoreAdj),
    PidMode: pid,
    Privileged: !!v.privileged,
    PublishAllPorts: !!v.publishAll,
    ReadonlyRootfs: !!v.readOnly,
    SecurityOpt: securityOpt,
  });
  if (Object.keys(storageOpt).length > 0) hostConfig.StorageOpt = sortedMap(storageOpt);
  if (Object.keys(tmpfs).length > 0) hostConfig.Tmpfs = sortedMap(tmpfs);
  Object.assign(hostConfig, { UTSMode: uts, UsernsMode: userns, ShmSize: num(v.shmSize) });
  if (Object.keys(sysctls).length > 0) hostConfig.Sysctls = sortedMap(sysctls);
  if (str(v.runtime)) hostConfig.Runtime = str(v.runtime);
  const weight = (v.blkioWeightDevice as BlkioDevice[] | undefined) ?? [];
  const throttle = (list: unknown) => ((list as BlkioDevice[] | undefined) ?? []).map((d) => ({ Path: d.Path, Rate: d.Rate }));
  Object.assign(hostConfig, {
    Isolation: str(v.isolation),
    CpuShares: num(v.cpuShares),
    Memory: num(v.memory),
    NanoCpus: num(v.cpus),
    CgroupParent: str(v.cgroupParent),
    BlkioWeight: num(v.blkioWeight),
    BlkioWeightDevice: weight.map((d) => ({ Path: d.Path, Weight: d.Weight })),
    BlkioDeviceReadBps: throttle(v.deviceReadBps),
    BlkioDeviceWriteBps: throttle(v.deviceWriteBps),
    BlkioDeviceReadIOps: throttle(v.deviceReadIops),
    BlkioDeviceWriteIOps: throttle(v.deviceWriteIops),
    CpuPeriod: num(v.cpuPeriod),
    CpuQuota: num(v.cpuQuota),
    CpuRealtimePeriod: num(v.cpuRtPeriod),
    CpuRealtimeRuntime: num(v.cpuRtRuntime),
    CpusetCpus: str(v.cpusetCpus),
    CpusetMems: str(v.cpusetMems),
    Devices: devices,
    DeviceCgroupRules: strs(v.deviceCgroupRule).length > 0 ? strs(v.deviceCgroupRule) : null,
    DeviceRequests: deviceRequests,
  });
  // KernelMemory is dropped by docker's client for API >= 1.42
  Object.assign(hostConfig, {
    MemoryReservation: num(v.memoryReservation),
    MemorySwap: num(v.memorySwap),
    MemorySwappiness: swappiness,
    OomKillDisable: !!v.oomKillDisable,
    PidsLimit: num(v.pidsLimit),
    Ulimits: [...ulimits.keys()].sort().map((k) => ulimits.get(k)),
    CpuCount: num(v.cpuCount),
    CpuPercent: num(v.cpuPercent),
    IOMaximumIOps: num(v.ioMaxiops),
    IOMaximumBandwidth: num(v.ioMaxbandwidth),
  });
  const mounts = (v.mount as Mount[] | undefined) ?? [];
  if (mounts.length > 0) hostConfig.Mounts = mounts;
  Object.assign(hostConfig, { MaskedPaths: maskedPaths, ReadonlyPaths: readonlyPaths });
  if (v.init !== undefined) hostConfig.Init = !!v.init;
  if (v.enableLxcfs) hostConfig.EnableLxcfs = true;
  const hooks = ociHooks(str(v.ociHooksFile), strs(v.ociHook));
  if (hooks) hostConfig.OciHooks = hooks;

  return { ...config, HostConfig: hostConfig, NetworkingConfig: { EndpointsConfig: endpoints } };
}

/** --oci-hooks-file (the spec's "hooks" object) plus --oci-hook STAGE=PATH
 * lines appended to it; the daemon checks stages and paths. */
export function ociHooks(file: string, lines: string[]): Record<string, Array<Record<string, unknown>>> | undefined {
  let hooks: Record<string, Array<Record<string, unknown>>> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(openError(err, file));
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new Error(`invalid --oci-hooks-file ${file}: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`invalid --oci-hooks-file ${file}: expected an object of stages, e.g. {"prestart": [{"path": "/usr/local/bin/hook"}]}`);
    hooks = raw as typeof hooks;
  }
  for (const line of lines) {
    const i = line.indexOf('=');
    if (i <= 0 || i === line.length - 1) throw new Error(`invalid argument "${line}" for "--oci-hook" flag: expected STAGE=PATH`);
    const stage = line.slice(0, i);
    const list = Array.isArray(hooks[stage]) ? hooks[stage]! : [];
    hooks[stage] = [...list, { path: line.slice(i + 1) }];
  }
  return Object.keys(hooks).length ? hooks : undefined;
}

/** PouchContainer's --disk-quota: "10g" (the root filesystem) or "/data=10g". */
export function parseDiskQuota(quotas: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const q of quotas) {
    const parts = q.split('=');
    if (q === '' || parts.length > 2 || parts.some((p) => p === '')) throw new Error(`invalid format for disk quota: ${q}`);
    if (parts.length === 1) out['/'] = parts[0]!;
    else out[parts[0]!] = parts[1]!;
  }
  return out;
}
