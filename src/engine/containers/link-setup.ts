// Legacy links on the default bridge, the engine side: checked at create,
// resolved at start into /etc/hosts lines and variables, the linking
// containers' hosts files updated when a linked container starts again, and
// followed through renames. (Links on user networks are names in the
// embedded DNS: networks/service.ts.)
import { readFile, writeFile } from 'node:fs/promises';
import { internal, invalid, is, messageOf, notFound } from '../../errdefs/index.ts';
import { log } from '../../util/log.ts';
import type { ContainerContext } from './context.ts';
import { formatLink, linkHostsLine, linksEnv, parseLink, removeLinkHost, splitLinkName, updateLinkHost, type Link, type LinkEnvInput } from './links.ts';
import { findContainer } from './lookup.ts';
import { networkNameOf } from './network-settings.ts';
import type { ContainerRecord } from './record.ts';
import type { HostConfig } from './types.ts';

const onDefaultBridge = (hc: HostConfig): boolean => networkNameOf(hc.NetworkMode) === 'bridge';

/** At create: the links of a container on the default bridge (or none), each
 * to a container that exists, its name as the target, one per alias (the
 * first, as dockerd keeps). [] when they are not legacy links. */
export function checkLinks(cx: ContainerContext, hc: HostConfig): Link[] {
  if (!hc.Links?.length) return [];
  const mode = hc.NetworkMode ?? 'default';
  if (mode === 'host') throw invalid("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  if (mode.startsWith('container:')) throw invalid("conflicting options: container type network can't be used with links. This would result in undefined behavior");
  // On a user network they go to the endpoint, unchecked, as in dockerd.
  if (!onDefaultBridge(hc) && mode !== 'none') return [];
  const out: Link[] = [];
  for (const spec of hc.Links) {
    const l = parseLink(spec);
    if (!l.target) throw invalid(`could not get container for : invalid name or ID supplied: ""`);
    let target: ContainerRecord;
    try {
      target = findContainer(cx, l.target);
    } catch (e) {
      // Not a 404: the docker CLI would take it for a missing image and pull.
      throw invalid(`could not get container for ${l.target}: ${messageOf(e)}`);
    }
    if (!out.some((o) => o.alias === l.alias)) out.push({ target: target.name, alias: l.alias });
  }
  return out;
}

/** HostConfig.Links as stored and shown: "/<linked>:/<self>/<alias>". */
export function storedLinks(links: Link[], self: string): string[] {
  return links.map((l) => formatLink(l.target, self, l.alias));
}

/** The default bridge address of a running container, '' when it has none. */
function bridgeIp(cx: ContainerContext, c: ContainerRecord): string {
  return cx.deps.networks?.attachments(c).find((a) => a.network.name === 'bridge')?.endpoint.state?.ip ?? '';
}

function onBridgeNetwork(cx: ContainerContext, c: ContainerRecord): boolean {
  return !!cx.deps.networks?.attachments(c).some((a) => a.network.name === 'bridge');
}

export interface ResolvedLinks {
  /** /etc/hosts lines, after --add-host's. */
  hosts: string[];
  /** Variables under the container's own. */
  env: string[];
}

/**
 * At start, on the default bridge: every linked container must be on that
 * bridge and running (dockerd's errors, in its order). `lenient` (an exec)
 * skips the links that cannot be resolved instead.
 */
export function resolveLinks(cx: ContainerContext, c: ContainerRecord, opts: { lenient?: boolean } = {}): ResolvedLinks {
  const out: ResolvedLinks = { hosts: [], env: [] };
  if (!c.hostConfig.Links?.length || !onDefaultBridge(c.hostConfig)) return out;
  const links = c.hostConfig.Links.map((s) => {
    const l = parseLink(s);
    let target: ContainerRecord | undefined;
    try {
      target = findContainer(cx, l.target);
    } catch (e) {
      if (!is(e, 'not-found')) throw e;
    }
    return { ...l, c: target };
  });
  for (const l of links) {
    if (l.c && !onBridgeNetwork(cx, l.c) && !opts.lenient) throw internal(`Cannot link to /${l.c.name}, as it does not belong to the default network`);
  }
  const envs: LinkEnvInput[] = [];
  for (const l of links) {
    const ip = l.c?.state.Running ? bridgeIp(cx, l.c) : '';
    if (!l.c || !ip) {
      if (opts.lenient) continue;
      throw internal(`Cannot link to a non running container: /${l.c?.name ?? l.target} AS /${c.name}/${l.alias}`);
    }
    out.hosts.push(linkHostsLine(ip, l.alias, l.c.config.Hostname || l.c.id.slice(0, 12), l.c.name));
    envs.push({ alias: l.alias, self: c.name, ip, env: l.c.config.Env, exposedPorts: l.c.config.ExposedPorts });
  }
  out.env = linksEnv(envs);
  return out;
}

/** A linked container started (maybe with another address): the running
 * containers linking to it get its new address in their /etc/hosts, as
 * dockerd updates them. Their variables stay as they were. */
export async function updateLinkers(cx: ContainerContext, c: ContainerRecord): Promise<void> {
  if (!onDefaultBridge(c.hostConfig)) return;
  const ip = bridgeIp(cx, c);
  if (!ip) return;
  for (const p of cx.store.runningWithLinks()) {
    if (p.id === c.id || !onDefaultBridge(p.hostConfig)) continue;
    const aliases = (p.hostConfig.Links ?? []).map(parseLink).filter((l) => l.target === c.name).map((l) => l.alias);
    if (!aliases.length) continue;
    const path = cx.paths(p.id).hostsPath;
    try {
      const before = await readFile(path, 'utf8');
      const after = aliases.reduce((text, a) => updateLinkHost(text, a, ip), before);
      // In place: the file is bind-mounted into the running container.
      if (after !== before) await writeFile(path, after);
    } catch (e) {
      log.warn('updating a linking container\'s /etc/hosts failed', { container: p.id, linked: c.id, err: e });
    }
  }
}

/** A rename: the links naming the container (as linked or as linking) follow. */
export async function renameLinks(cx: ContainerContext, oldName: string, newName: string): Promise<void> {
  for (const p of cx.store.all()) {
    if (!p.hostConfig.Links?.length) continue;
    await cx.lock(p.id, async () => {
      const cur = cx.store.get(p.id);
      if (!cur?.hostConfig.Links?.length) return;
      const links = cur.hostConfig.Links.map((s) => {
        const m = /^\/([^:]+):\/([^/]+)\/(.+)$/.exec(s);
        if (!m) return s;
        return formatLink(m[1] === oldName ? newName : m[1]!, m[2] === oldName ? newName : m[2]!, m[3]!);
      });
      if (links.every((l, i) => l === cur.hostConfig.Links![i])) return;
      cur.hostConfig = { ...cur.hostConfig, Links: links };
      cx.store.save(cur);
    });
  }
}

/** `docker rm --link /<linking>/<alias>`: the link leaves the linking
 * container's HostConfig.Links and, while it runs, its /etc/hosts; no
 * container is removed. dockerd's answers: a name that is no link is "No
 * such container" (404); a container's own name is refused with a 500. */
export async function removeLink(cx: ContainerContext, name: string): Promise<void> {
  const split = splitLinkName(name.trim());
  if (!split) {
    findContainer(cx, name);
    throw internal('Conflict, cannot remove the default link name of the container');
  }
  const missing = () => notFound(`No such container: ${name.replace(/^\/+/, '')}`);
  let parent: ContainerRecord;
  try {
    parent = findContainer(cx, split.parent);
  } catch (e) {
    if (is(e, 'not-found')) throw missing();
    throw e;
  }
  await cx.lock(parent.id, async () => {
    const cur = cx.store.get(parent.id);
    const links = cur?.hostConfig.Links ?? [];
    const keep = links.filter((s) => parseLink(s).alias !== split.alias);
    if (!cur || keep.length === links.length) throw missing();
    cur.hostConfig = { ...cur.hostConfig, Links: keep.length ? keep : null };
    cx.store.save(cur);
    if (!cur.state.Running) return;
    const path = cx.paths(cur.id).hostsPath;
    try {
      const before = await readFile(path, 'utf8');
      const after = removeLinkHost(before, split.alias);
      // In place: the file is bind-mounted into the running container.
      if (after !== before) await writeFile(path, after);
    } catch (e) {
      log.warn('removing a link from /etc/hosts failed', { container: cur.id, link: name, err: e });
    }
  });
}
