// joey port: a container's published ports from NetworkSettings.Ports, as
// docker prints them ("80/tcp -> 0.0.0.0:8080"), naturally sorted.
import { escapePath } from '../client/client.ts';
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { naturalCompare, parseGoInt } from './go-values.ts';

type PortMap = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;

/** Go's net.JoinHostPort. */
const joinHostPort = (host: string, port: string) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

export async function runPort(cli: Cli, container: string, privatePort: string | undefined): Promise<void> {
  const c = await cli.client.get<{ NetworkSettings?: { Ports?: PortMap | null } | null }>(`/containers/${escapePath(container)}/json`);
  const ports = c?.NetworkSettings?.Ports ?? {};
  const out: string[] = [];
  if (privatePort !== undefined && privatePort !== '') {
    const slash = privatePort.indexOf('/');
    const port = slash < 0 ? privatePort : privatePort.slice(0, slash);
    const proto = (slash < 0 ? '' : privatePort.slice(slash + 1)) || 'tcp';
    try {
      parseGoInt(port, 16, { unsigned: true });
    } catch (err) {
      throw new StatusError(`Error: invalid port (${port}): ${(err as Error).message}`);
    }
    const frontends = ports[`${port}/${proto}`];
    if (!frontends || frontends.length === 0) throw new StatusError(`Error: No public port '${privatePort}' published for ${container}`);
    for (const f of frontends) out.push(joinHostPort(f.HostIp ?? '', f.HostPort ?? ''));
  } else {
    for (const [from, frontends] of Object.entries(ports)) {
      for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp ?? '', f.HostPort ?? '')}`);
    }
  }
  if (out.length > 0) cli.out(out.sort(naturalCompare).join('\n') + '\n');
}
