// Where the daemon is: an ordered chain of sources (flag, environment,
// default), the first that gives a value wins -- as testcontainers finds its
// docker host. Also parses the chosen address.
import { invalid } from '../errdefs/index.ts';

export const DEFAULT_HOST = 'unix:///run/joey/joeyd.sock';
export const DEFAULT_TCP_PORT = 2375;
export const DEFAULT_TLS_PORT = 2376;

export interface HostSource {
  readonly name: string;
  /** The address this source gives, or undefined to fall through. */
  resolve(): string | undefined;
}

export interface ResolvedHost {
  host: string;
  /** The name of the source that gave it ("flag", "JOEY_HOST", "default"). */
  source: string;
}

export function flagSource(values: string[] | string | undefined): HostSource {
  return {
    name: 'flag',
    resolve() {
      const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
      // docker accepts -H as a list but a client talks to one daemon
      if (list.length > 1) throw invalid('Specify only one -H');
      return list[0] || undefined;
    },
  };
}

export function envSource(env: Record<string, string | undefined>, name = 'JOEY_HOST'): HostSource {
  return { name, resolve: () => env[name] || undefined };
}

export function defaultSource(host = DEFAULT_HOST): HostSource {
  return { name: 'default', resolve: () => host };
}

export function resolveFrom(sources: HostSource[]): ResolvedHost {
  for (const s of sources) {
    const host = s.resolve();
    if (host !== undefined) return { host, source: s.name };
  }
  return { host: DEFAULT_HOST, source: 'default' };
}

/** The CLI's chain: `-H/--host`, then JOEY_HOST, then the default socket.
 * DOCKER_HOST is deliberately not read: it points at dockerd. */
export function resolveHost(opts: { flag?: string[] | string; env: Record<string, string | undefined> }): ResolvedHost {
  return resolveFrom([flagSource(opts.flag), envSource(opts.env), defaultSource()]);
}

export type ParsedHost =
  | { proto: 'unix'; socketPath: string; url: string }
  | { proto: 'tcp'; hostname: string; port: number; url: string };

/** Parses unix:///path, tcp://host[:port] (http:// and https:// as aliases
 * of tcp://), and a bare absolute path as a unix socket. */
export function parseHost(addr: string, opts: { tls?: boolean } = {}): ParsedHost {
  const s = addr.trim();
  if (s.startsWith('/')) return { proto: 'unix', socketPath: s, url: `unix://${s}` };
  const m = /^([a-z]+):\/\/(.*)$/.exec(s);
  if (!m) throw invalid(`Invalid bind address format: ${addr}`);
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw invalid(`Invalid bind address format: ${addr}`);
    return { proto: 'unix', socketPath: rest, url: `unix://${rest}` };
  }
  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    const hostPort = rest.replace(/\/+$/, '');
    if (hostPort.includes('/')) throw invalid(`Invalid bind address format: ${addr}`);
    let hostname: string;
    let portText: string | undefined;
    const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(hostPort);
    if (v6) {
      hostname = v6[1]!;
      portText = v6[2];
    } else {
      const i = hostPort.lastIndexOf(':');
      hostname = i < 0 ? hostPort : hostPort.slice(0, i);
      portText = i < 0 ? undefined : hostPort.slice(i + 1);
    }
    if (!hostname) hostname = '127.0.0.1';
    const defPort = opts.tls || scheme === 'https' ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT;
    const port = portText === undefined || portText === '' ? defPort : Number(portText);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw invalid(`Invalid bind address format: ${addr}`);
    const shown = hostname.includes(':') ? `[${hostname}]` : hostname;
    return { proto: 'tcp', hostname, port, url: `tcp://${shown}:${port}` };
  }
  throw invalid(`Invalid bind address format: ${addr}`);
}
