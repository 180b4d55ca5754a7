// ps and inspect.
import { join } from 'node:path';
import { invalid } from '../../errdefs/index.ts';
import type { Filters } from '../../images/types.ts';
import { resolveImage } from '../../images/query.ts';
import { humanDuration } from '../../util/duration.ts';
import { checkFilterKeys, labelMatches } from '../../util/filters.ts';
import type { ContainerContext } from './context.ts';
import { findContainer } from './lookup.ts';
import { ZERO_TIME, logPathOf, type ContainerRecord } from './record.ts';
import type { ContainerInspect, ContainerSummary } from './types.ts';
import { mountPointOf } from '../volumes/index.ts';
import { networkSettings, summaryNetworks } from './network-settings.ts';
import { historyEntry, UpgradeStore } from './upgrade-store.ts';

const PS_FILTERS = new Set(['status', 'name', 'label', 'id', 'ancestor', 'exited', 'before', 'since', 'health', 'volume', 'network', 'is-task', 'publish', 'expose']);
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);
const HEALTH = new Set(['starting', 'healthy', 'unhealthy', 'none']);

function command(c: ContainerRecord): string {
  return [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])].join(' ');
}

/** "Up 2 minutes", "Exited (0) 3 seconds ago", "Created", as docker ps shows. */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.state;
  if (s.Restarting) return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  if (s.Running) {
    const up = `Up ${humanDuration(now - Date.parse(s.StartedAt))}`;
    const health = s.Health && s.Health.Status !== 'none' ? ` (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})` : '';
    return s.Paused ? `${up} (Paused)` : up + health;
  }
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Status === 'dead') return 'Dead';
  if (s.StartedAt === ZERO_TIME || s.Status === 'created') return 'Created';
  return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
}

export async function listContainers(cx: ContainerContext, opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
  const f = checkFilterKeys(opts.filters, PS_FILTERS);
  for (const st of f.status ?? []) if (!STATUSES.has(st)) throw invalid(`invalid filter 'status=${st}'`);
  for (const h of f.health ?? []) if (!HEALTH.has(h)) throw invalid(`Unrecognised filter value for health: ${h}`);
  let list = cx.store.all();
  const byRef = (ref: string) => {
    try {
      return findContainer(cx, ref);
    } catch {
      return undefined;
    }
  };
  const ancestors = (f.ancestor ?? []).map((a) => {
    try {
      return resolveImage(cx.deps.images, a).id;
    } catch {
      return a;
    }
  });
  const before = f.before?.length ? byRef(f.before[0]!) : undefined;
  const since = f.since?.length ? byRef(f.since[0]!) : undefined;
  const all = opts.all || f.status?.length || f.exited?.length || opts.limit && opts.limit > 0;
  list = list.filter((c) => {
    const s = c.state;
    if (!all && !s.Running && !s.Restarting) return false;
    if (f.status?.length && !f.status.includes(s.Paused ? 'paused' : s.Restarting ? 'restarting' : s.Status)) return false;
    if (f.name?.length && !f.name.some((n) => new RegExp(n.replace(/^\//, '')).test(c.name))) return false;
    if (f.id?.length && !f.id.some((i) => c.id.startsWith(i))) return false;
    if (f.label?.length && !f.label.every((l) => labelMatches(c.config.Labels ?? {}, l))) return false;
    if (f.exited?.length && (s.Running || s.StartedAt === ZERO_TIME || !f.exited.map(Number).includes(s.ExitCode))) return false;
    if (f.ancestor?.length && !ancestors.some((a) => a === c.imageId || c.imageRef === a || c.imageRef.split(':')[0] === a)) return false;
    if (before && !(c.createdAt < before.createdAt)) return false;
    if (since && !(c.createdAt > since.createdAt)) return false;
    if (f.health?.length && !f.health.includes(s.Health?.Status ?? 'none')) return false;
    return true;
  });
  if (opts.limit && opts.limit > 0) list = list.slice(0, opts.limit);
  const out: ContainerSummary[] = [];
  for (const c of list) {
    const item: ContainerSummary = {
      Id: c.id,
      Names: [`/${c.name}`],
      Image: c.imageRef,
      ImageID: c.imageId,
      Command: command(c),
      Created: Math.floor(Date.parse(c.createdAt) / 1000),
      Ports: summaryPorts(cx.deps.networks?.portsOf(c) ?? {}),
      Labels: c.config.Labels ?? {},
      State: c.state.Paused ? 'paused' : c.state.Restarting ? 'restarting' : c.state.Status,
      Status: statusText(c),
      HostConfig: { NetworkMode: c.hostConfig.NetworkMode ?? 'default' },
      NetworkSettings: { Networks: summaryNetworks(c, cx.deps.networks?.attachments(c)) },
      Mounts: cx.deps.volumes.mountsOf(c.id).map(mountPointOf),
    };
    if (opts.size) {
      const u = await cx.deps.snapshots.usage(c.id).catch(() => ({ size: 0 }));
      item.SizeRw = u.size;
      item.SizeRootFs = u.size + (cx.deps.images.store.get(c.imageId)?.size ?? 0);
    }
    out.push(item);
  }
  return out;
}

export async function inspectContainer(cx: ContainerContext, idOrName: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
  const c = findContainer(cx, idOrName);
  const paths = cx.paths(c.id);
  const args = [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])];
  const out: ContainerInspect = {
    Id: c.id,
    Created: c.createdAt,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: c.state,
    Image: c.imageId,
    ResolvConfPath: paths.resolvConfPath,
    HostnamePath: paths.hostnamePath,
    HostsPath: paths.hostsPath,
    LogPath: logPathOf(c, paths),
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: 'overlayfs',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: [...cx.execs.values()].filter((e) => e.containerId === c.id).map((e) => e.id),
    HostConfig: c.hostConfig,
    GraphDriver: { Name: 'overlayfs', Data: { MergedDir: paths.rootfs } },
    Mounts: cx.deps.volumes.mountsOf(c.id).map(mountPointOf),
    Config: c.config,
    NetworkSettings: networkSettings(c, cx.deps.networks?.attachments(c), cx.deps.networks?.portsOf(c) ?? {}, join(cx.deps.roots.execRoot, 'netns', c.id)),
  };
  const upgrades = new UpgradeStore(cx.deps.db).history(c.id);
  if (upgrades.length) out.UpgradeHistory = upgrades.map(historyEntry);
  if (opts.size) {
    const u = await cx.deps.snapshots.usage(c.id).catch(() => ({ size: 0 }));
    out.SizeRw = u.size;
    out.SizeRootFs = u.size + (cx.deps.images.store.get(c.imageId)?.size ?? 0);
  }
  return out;
}

/** `docker ps`'s Ports: published ones with their host side, exposed ones bare. */
function summaryPorts(ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>): ContainerSummary['Ports'] {
  const out: ContainerSummary['Ports'] = [];
  for (const [key, list] of Object.entries(ports)) {
    const [port, type = 'tcp'] = key.split('/');
    if (!list) out.push({ PrivatePort: Number(port), Type: type });
    else for (const b of list) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  return out;
}
