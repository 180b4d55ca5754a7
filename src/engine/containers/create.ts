// docker create: validate everything, prepare the rootfs snapshot and the
// managed files, record the container. Nothing runs yet.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import os from 'node:os';
import { conflict, invalid } from '../../errdefs/index.ts';
import { imageConfig, resolveImage } from '../../images/query.ts';
import type { ImageConfig } from '../../images/types.ts';
import type { ContainerContext } from './context.ts';
import { writeContainerFiles } from './files.ts';
import { parseSize } from './logrotate.ts';
import { mergeHealthcheck, validateHealthcheck } from './health.ts';
import { NAME_RE, randomName } from './names.ts';
import { initialState, type ContainerRecord } from './record.ts';
import { mountRootfs, unmountRootfs } from './rootfs.ts';
import { applyRichDefaults } from './rich.ts';
import { buildContainerSpec } from './spec.ts';
import { checkHookPaths, checkHooks } from '../../runtime/spec/index.ts';
import { parseVolumesFrom, type PreparedMounts } from '../volumes/index.ts';
import { findContainer } from './lookup.ts';
import { networkNameOf } from './network-settings.ts';
import { checkLinks, storedLinks } from './link-setup.ts';
import type { ContainerConfig, CreateRequest, HostConfig } from './types.ts';
import type { EndpointSettingsRequest } from '../networks/index.ts';
import { ROOTFS_KEY, checkQuotaId, planDiskQuota } from '../quota/index.ts';

/** Without the networks service only the built-in modes exist. */
function legacyNetworkCheck(h: HostConfig): [] {
  const net = h.NetworkMode ?? 'default';
  if (!['default', 'none', 'host', 'bridge'].includes(net) && !net.startsWith('container:')) throw invalid(`network ${net} not found`);
  return [];
}

const RESTART_POLICIES = new Set(['', 'no', 'always', 'unless-stopped', 'on-failure']);

/** Docker's merge of the image's config under the container's. */
/** `extra` over `base`, a variable of the same name replaced in place. */
export function mergeEnv(base: string[], extra: string[]): string[] {
  const env = [...base];
  for (const e of extra) {
    const k = e.split('=')[0];
    const i = env.findIndex((x) => x.split('=')[0] === k);
    if (i >= 0) env[i] = e;
    else env.push(e);
  }
  return env;
}

export function mergeConfig(image: ImageConfig, req: ContainerConfig): ContainerConfig {
  const env = mergeEnv(image.Env ?? [], req.Env ?? []);
  const entrypointGiven = req.Entrypoint !== undefined && req.Entrypoint !== null;
  const cmdGiven = req.Cmd !== undefined && req.Cmd !== null && req.Cmd.length > 0;
  return {
    ...req,
    Hostname: req.Hostname ?? '',
    Domainname: req.Domainname ?? '',
    User: req.User || image.User || '',
    Env: env,
    // An explicit entrypoint drops the image's command, as in Docker.
    Cmd: cmdGiven ? req.Cmd! : entrypointGiven ? null : (image.Cmd ?? null),
    Entrypoint: entrypointGiven ? (req.Entrypoint!.length ? req.Entrypoint! : null) : (image.Entrypoint ?? null),
    WorkingDir: req.WorkingDir || image.WorkingDir || '',
    Labels: { ...(image.Labels ?? {}), ...(req.Labels ?? {}) },
    ExposedPorts: { ...(image.ExposedPorts ?? {}), ...(req.ExposedPorts ?? {}) },
    Volumes: { ...(image.Volumes ?? {}), ...(req.Volumes ?? {}) },
    StopSignal: req.StopSignal || image.StopSignal || undefined,
    Healthcheck: mergeHealthcheck(image.Healthcheck, req.Healthcheck),
    OnBuild: null,
    Tty: req.Tty ?? false,
    OpenStdin: req.OpenStdin ?? false,
    StdinOnce: req.StdinOnce ?? false,
    AttachStdin: req.AttachStdin ?? false,
    AttachStdout: req.AttachStdout ?? false,
    AttachStderr: req.AttachStderr ?? false,
  };
}

export function normalizeHostConfig(hc: HostConfig | undefined, runtimes: Set<string>, defaultRuntime: string): HostConfig {
  const h: HostConfig = { ...(hc ?? {}) };
  if (h.DiskQuota !== undefined) throw invalid('DiskQuota belongs in the container config (Config.DiskQuota), not in HostConfig');
  h.NetworkMode = !h.NetworkMode || h.NetworkMode === 'default' ? 'default' : h.NetworkMode;
  h.RestartPolicy = { Name: h.RestartPolicy?.Name ?? 'no', MaximumRetryCount: h.RestartPolicy?.MaximumRetryCount ?? 0 };
  if (h.RestartPolicy.Name === '') h.RestartPolicy.Name = 'no';
  if (!RESTART_POLICIES.has(h.RestartPolicy.Name)) throw invalid(`invalid restart policy '${h.RestartPolicy.Name}'`);
  if (h.RestartPolicy.Name !== 'on-failure' && h.RestartPolicy.MaximumRetryCount) {
    throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  if ((h.RestartPolicy.MaximumRetryCount ?? 0) < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
  if (h.AutoRemove && h.RestartPolicy.Name !== 'no') throw invalid(`can't create 'AutoRemove' container with restart policy`);
  h.LogConfig = { Type: h.LogConfig?.Type || 'json-file', Config: h.LogConfig?.Config ?? {} };
  if (!['json-file', 'k8s-file', 'none', 'local'].includes(h.LogConfig.Type)) throw invalid(`unknown log driver "${h.LogConfig.Type}": joey supports json-file and none`);
  validateLogOptions(h.LogConfig.Type, h.LogConfig.Config ?? {});
  const hooks = checkHooks(h.OciHooks);
  if (hooks) h.OciHooks = hooks;
  else delete h.OciHooks;
  h.Runtime = h.Runtime || defaultRuntime;
  if (!runtimes.has(h.Runtime)) throw invalid(`unknown or invalid runtime name: ${h.Runtime}`);
  return h;
}

const JSON_FILE_OPTS = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag', 'mode', 'max-buffer-size']);

function validateLogOptions(driver: string, opts: Record<string, string>): void {
  for (const k of Object.keys(opts)) {
    // k8s-file may name its file (the CRI's log_path): absolute, not a directory.
    if (driver === 'k8s-file' && k === 'path') {
      if (!isAbsolute(opts[k]!) || opts[k]!.endsWith('/')) throw invalid(`log opt 'path' must be an absolute file path, got ${JSON.stringify(opts[k])}`);
      continue;
    }
    if (driver === 'none' || !JSON_FILE_OPTS.has(k)) throw invalid(`unknown log opt '${k}' for ${driver} log driver`);
  }
  if (opts['max-size'] !== undefined && opts['max-size'] !== '-1') parseSize(opts['max-size']);
  const files = opts['max-file'];
  if (files !== undefined) {
    if (!/^\d+$/.test(files) || Number(files) < 1) throw invalid(`max-file cannot be less than 1: '${files}'`);
    if (Number(files) > 1 && !opts['max-size']) throw invalid("max-file cannot be set without max-size");
  }
}

export async function createContainer(cx: ContainerContext, req: CreateRequest, opts: { name?: string } = {}): Promise<{ Id: string; Warnings: string[] }> {
  if (!req || typeof req !== 'object') throw invalid('config cannot be empty in order to create a container');
  if (!req.Image) throw invalid('no image specified: Config.Image is required');
  let name = opts.name?.replace(/^\//, '');
  let generatedName = false;
  if (name !== undefined && name !== '' && !NAME_RE.test(name)) {
    throw invalid(`Invalid container name (${opts.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const img = resolveImage(cx.deps.images, req.Image);
  const imgCfg = await imageConfig(cx.deps.images, img.id);
  const { HostConfig: reqHost, NetworkingConfig: _net, ...reqConfig } = req;
  validateHealthcheck(reqConfig.Healthcheck);
  void _net;
  const config = mergeConfig(imgCfg.config ?? {}, reqConfig);
  if (!config.Cmd?.length && !config.Entrypoint?.length) throw invalid('No command specified');
  const hostConfig = normalizeHostConfig(reqHost, new Set(cx.deps.runtimes.keys()), cx.deps.defaultRuntime);
  const netPlan = cx.deps.networks ? cx.deps.networks.plan({ hostConfig, config }, (req.NetworkingConfig?.EndpointsConfig ?? {}) as Record<string, EndpointSettingsRequest>) : legacyNetworkCheck(hostConfig);
  // Links on a user network went to its endpoint (see plan), as in dockerd,
  // whose HostConfig.Links then reads null: docker-compose goes by that.
  if (hostConfig.Links?.length && netPlan.length && networkNameOf(hostConfig.NetworkMode) !== 'bridge') hostConfig.Links = null;
  // Legacy links (default bridge, none): each to a container that exists.
  const links = checkLinks(cx, hostConfig);
  hostConfig.Links ||= null; // as dockerd shows none

  await checkHookPaths(hostConfig.OciHooks);
  // A quota the backend cannot give fails here, before anything is made:
  // never a silently unlimited container.
  const quotaPlan = planDiskQuota(config.DiskQuota);
  checkQuotaId(config.QuotaID, cx.deps.quota?.backend.kind === 'project');
  if (quotaPlan) {
    if (!cx.deps.quota) throw invalid('disk quota is not available on this daemon');
    cx.deps.quota.checkPlan(quotaPlan);
    if (typeof config.DiskQuota === 'string') config.DiskQuota = { [ROOTFS_KEY]: config.DiskQuota };
  } else {
    delete config.DiskQuota;
  }

  if (name) {
    const other = cx.store.nameTaken(name);
    if (other) {
      throw conflict(`Conflict. The container name "/${name}" is already in use by container "${other}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
  } else {
    name = randomName((n) => cx.store.nameTaken(n) !== undefined);
    generatedName = true;
  }
  const id = randomBytes(32).toString('hex');
  // With the host's network the container also takes the host's name.
  config.Hostname ||= hostConfig.NetworkMode === 'host' ? os.hostname() : id.slice(0, 12);
  config.Image = req.Image;
  const paths = cx.paths(id);
  const rec: ContainerRecord = {
    id,
    name,
    imageId: img.id,
    imageRef: req.Image,
    createdAt: new Date().toISOString(),
    config,
    hostConfig,
    state: initialState(),
    runtime: hostConfig.Runtime!,
    restartCount: 0,
    monitorPid: null,
    monitorStart: null,
    manuallyStopped: false,
  };

  await cx.deps.snapshots.prepare(id, img.chainId ?? undefined, { labels: { 'joey.container': name } });
  let mounts: PreparedMounts | undefined;
  let quotaDir: string | undefined;
  try {
    if (quotaPlan?.rootfs) {
      const dir = dirname(await cx.deps.snapshots.upperDir(id));
      const projectId = config.QuotaID && config.QuotaID !== '-1' ? Number(config.QuotaID) : undefined;
      await cx.deps.quota!.limitRootfs(id, dir, quotaPlan.rootfs, projectId);
      quotaDir = dir;
      // As PouchContainer: inspect shows the id the area got ("-1" or none: the one allocated).
      const given = await cx.deps.quota!.rootfsProjectId(id);
      if (given !== undefined) config.QuotaID = String(given);
    }
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    await writeContainerFiles(paths, config.Hostname, hostConfig);
    // --volumes-from: the other containers' binds and volumes at the same places.
    const inherited = (hostConfig.VolumesFrom ?? []).map((spec) => {
      const { container, mode } = parseVolumesFrom(spec);
      return { mounts: cx.deps.volumes.mountsOf(findContainer(cx, container).id), mode };
    });
    mounts = await cx.deps.volumes.prepare(config, hostConfig, inherited);
    if (quotaPlan) await cx.deps.volumes.limitMounts(mounts, quotaPlan);
    // Build the spec once now so that bad settings fail the create, as in Docker.
    const rootfs = await mountRootfs(cx, id);
    await applyRichDefaults(config, rootfs);
    const { warnings } = await buildContainerSpec(cx, rec, { creating: true, mounts: mounts.mounts });
    await cx.deps.volumes.populate(mounts.mounts, rootfs, id, mounts.created);
    cx.deps.db.transaction(() => {
      const again = cx.store.nameTaken(name!);
      // A generated name another create took meanwhile: pick another, as the user named none.
      if (again && generatedName) {
        name = randomName((n) => cx.store.nameTaken(n) !== undefined);
        rec.name = name;
      } else if (again) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${again}". You have to remove (or rename) that container to be able to reuse that name.`);
      if (links.length) hostConfig.Links = storedLinks(links, name!);
      cx.store.insert(rec);
      cx.deps.networks?.record(id, netPlan);
      cx.deps.volumes.record(id, mounts!);
    });
    cx.deps.volumes.announce(mounts);
    cx.deps.events.publish({ Type: 'container', Action: 'create', Actor: { ID: id, Attributes: { image: req.Image, name, ...(config.Labels ?? {}) } }, status: 'create', id, from: req.Image });
    return { Id: id, Warnings: warnings };
  } catch (e) {
    await unmountRootfs(cx, id).catch(() => undefined);
    if (mounts) await cx.deps.volumes.discard(mounts);
    if (quotaDir) await cx.deps.quota!.releaseRootfs(id, quotaDir).catch(() => undefined);
    await cx.deps.snapshots.remove(id).catch(() => undefined);
    await rm(paths.dir, { recursive: true, force: true });
    await rm(paths.bundle, { recursive: true, force: true });
    throw e;
  }
}
