// Pods over joey's containers: a sandbox is a container running the pause
// process, a pod's container is a container joining the sandbox's
// namespaces. Everything lives in the containers' records and labels; this
// service keeps no state of its own beyond the sandbox image's maker.
import { alreadyExists, deadlineExceeded, failedPrecondition, invalid, is, messageOf, notFound, unavailable } from '../../errdefs/index.ts';
import type { ImageService } from '../../images/types.ts';
import type { ContainerInspect, ContainerService, ContainerSummary } from '../containers/types.ts';
import type { NetworkService } from '../networks/types.ts';
import type { SystemService } from '../types.ts';
import { VERSION } from '../../version.ts';
import { containerPlan, resourcesOf, sandboxPlan, type SandboxView } from './configs.ts';
import { LABEL, isKind, matchesSelector, metaOf, nanosOf, nowNanos, type ContainerMeta, type SandboxMeta } from './labels.ts';
import { PauseImage } from './pause-image.ts';
import { imageStatus, inspectImage, listImages, pullImage, removeImage } from './images.ts';
import type {
  AuthConfig, Container, ContainerConfig, ContainerFilter, ContainerState, ContainerStats, ContainerStatus, FilesystemUsage, Image, ImageSpec,
  Int64, LinuxContainerResources, NamespaceMode, Maybe, PodSandbox, PodSandboxConfig, PodSandboxFilter, PodSandboxStats, PodSandboxStatus, PodService, PodsConfig,
  RuntimeCondition, StringMap,
} from './types.ts';

/** One reading of a container's usage, from the engine's stats. */
interface Sample {
  cpu: number;
  usage: number;
  workingSet: number;
  processes: number;
  networks: Record<string, { rx_bytes?: number; rx_errors?: number; tx_bytes?: number; tx_errors?: number }>;
}

/** The interface a pod's network is plugged in by (the CNI convention). */
const DEFAULT_INTERFACE = 'eth0';

export interface PodDeps {
  containers: ContainerService;
  images: ImageService;
  networks: Pick<NetworkService, 'inspect'>;
  system: Pick<SystemService, 'diskUsage'>;
  config: PodsConfig;
  /** For tests: where joey-pause is. */
  pauseBinary?: () => string | null;
}

/** The CRI's state of a joey container. */
export function containerStateOf(status: string): ContainerState {
  switch (status) {
    case 'created':
      return 'CONTAINER_CREATED';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'CONTAINER_RUNNING';
    case 'exited':
    case 'dead':
      return 'CONTAINER_EXITED';
    default:
      return 'CONTAINER_UNKNOWN';
  }
}

/** Why an exited container ended, in kubelet's words. */
export function reasonOf(st: ContainerInspect['State']): string {
  if (containerStateOf(st.Status) !== 'CONTAINER_EXITED') return '';
  if (st.OOMKilled) return 'OOMKilled';
  return st.ExitCode === 0 ? 'Completed' : 'Error';
}

function sandboxStateOf(status: string): PodSandbox['state'] {
  return status === 'running' ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY';
}

function requireId(what: string, id: string | undefined): string {
  if (!id) throw invalid(`${what} id is required`);
  return id;
}

/** The address of a sandbox on its network (the first one it has). */
export function podIpOf(c: ContainerInspect): string {
  const nets = (c.NetworkSettings['Networks'] ?? {}) as Record<string, { IPAddress?: string }>;
  for (const n of Object.values(nets)) if (n?.IPAddress) return n.IPAddress;
  return (c.NetworkSettings['IPAddress'] as string | undefined) ?? '';
}

export class Pods implements PodService {
  private readonly pause: PauseImage;

  constructor(private readonly deps: PodDeps) {
    this.pause = new PauseImage(deps.images, deps.config.podInfraImage, deps.pauseBinary);
  }

  version() {
    return { runtime_name: 'joey', runtime_version: VERSION, runtime_api_version: 'v1' };
  }

  async status(): Promise<RuntimeCondition[]> {
    const net = this.deps.config.network;
    let network: RuntimeCondition = { type: 'NetworkReady', status: true, reason: '', message: '' };
    try {
      await this.deps.networks.inspect(net);
    } catch (e) {
      network = { type: 'NetworkReady', status: false, reason: 'NetworkNotFound', message: `pod network ${net}: ${(e as Error).message}` };
    }
    return [{ type: 'RuntimeReady', status: true, reason: '', message: '' }, network];
  }

  // ---- sandboxes ----

  async runPodSandbox(config: Maybe<PodSandboxConfig>, runtimeHandler?: string): Promise<string> {
    // Checked before the image is made or pulled: bad input changes nothing.
    const plan = sandboxPlan(config, { image: this.pause.ref, network: this.deps.config.network, ownImage: this.pause.own, ...(runtimeHandler ? { runtimeHandler } : {}) });
    await this.nameFree('pod sandbox', plan.name);
    await this.pause.ensure();
    const { Id } = await this.deps.containers.create(plan.req, { name: plan.name });
    try {
      await this.deps.containers.start(Id);
    } catch (e) {
      await this.deps.containers.remove(Id, { force: true }).catch(() => undefined);
      throw e;
    }
    return Id;
  }

  /** The same metadata twice is the same name: already-exists, naming the holder. */
  private async nameFree(what: string, name: string): Promise<void> {
    const holder = await this.deps.containers.inspect(name).catch((e: unknown) => {
      if (is(e, 'not-found')) return undefined;
      throw e;
    });
    if (holder) throw alreadyExists(`${what} name ${name} is already in use by ${holder.Id}`);
  }

  /** A sandbox by id or unique id prefix; not-found for anything else. */
  private async sandbox(id: string): Promise<ContainerInspect> {
    const c = await this.deps.containers.inspect(requireId('pod sandbox', id)).catch((e: unknown) => {
      throw is(e, 'not-found') || is(e, 'invalid') ? notFound(`pod sandbox ${id} not found`) : e;
    });
    if (!isKind(c.Config.Labels, 'sandbox')) throw notFound(`pod sandbox ${id} not found`);
    return c;
  }

  private async maybeSandbox(id: string): Promise<ContainerInspect | undefined> {
    try {
      return await this.sandbox(id);
    } catch (e) {
      if (is(e, 'not-found')) return undefined;
      throw e;
    }
  }

  private async containersOf(sandboxId: string): Promise<ContainerSummary[]> {
    const all = await this.deps.containers.list({ all: true, filters: { label: [`${LABEL.kind}=container`, `${LABEL.sandboxId}=${sandboxId}`] } });
    // Checked again here: stopping or removing the wrong container is not recoverable.
    return all.filter((c) => isKind(c.Labels, 'container') && c.Labels?.[LABEL.sandboxId] === sandboxId);
  }

  /** Stopping a stopped sandbox is fine; an unknown one is not found (as containerd). */
  async stopPodSandbox(id: string): Promise<void> {
    const sb = await this.sandbox(id);
    for (const c of await this.containersOf(sb.Id)) {
      if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') await this.deps.containers.stop(c.Id, { timeout: 0 });
    }
    await this.deps.containers.stop(sb.Id, { timeout: 10 });
  }

  async removePodSandbox(id: string): Promise<void> {
    const sb = await this.maybeSandbox(requireId('pod sandbox', id));
    if (!sb) return;
    for (const c of await this.containersOf(sb.Id)) await this.removeQuietly(c.Id);
    await this.removeQuietly(sb.Id);
  }

  private async removeQuietly(id: string): Promise<void> {
    try {
      await this.deps.containers.remove(id, { force: true });
    } catch (e) {
      if (!is(e, 'not-found')) throw e;
    }
  }

  /** The creation time to the nanosecond (a listing has it to the second
   * only, and kubelet orders containers by it); undefined once removed. */
  private async createdAt(id: string): Promise<string | undefined> {
    try {
      return (await this.deps.containers.inspect(id)).Created;
    } catch (e) {
      if (is(e, 'not-found')) return undefined;
      throw e;
    }
  }

  private sandboxOf(c: { Id: string; Created: string; State: string }, meta: SandboxMeta): PodSandbox {
    return {
      id: c.Id,
      metadata: meta.metadata,
      state: sandboxStateOf(c.State),
      created_at: nanosOf(c.Created),
      labels: meta.labels,
      annotations: meta.annotations,
      runtime_handler: meta.runtimeHandler,
    };
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const c = await this.sandbox(id);
    const meta = metaOf<SandboxMeta>(c.Config.Labels);
    if (!meta) throw notFound(`pod sandbox ${id} has no CRI metadata`);
    const base = this.sandboxOf({ Id: c.Id, Created: c.Created, State: c.State.Status }, meta);
    const ns = meta.namespaces;
    return {
      ...base,
      network: { ip: ns.network === 'NODE' ? '' : c.State.Running ? podIpOf(c) : '', additional_ips: [] },
      linux: { namespaces: { options: { network: ns.network as NamespaceMode, pid: ns.pid as NamespaceMode, ipc: ns.ipc as NamespaceMode, target_id: '' } } },
    };
  }

  async listPodSandbox(filter?: Maybe<PodSandboxFilter>): Promise<PodSandbox[]> {
    const all = await this.deps.containers.list({ all: true, filters: { label: [`${LABEL.kind}=sandbox`] } });
    const out: PodSandbox[] = [];
    for (const c of all) {
      const meta = metaOf<SandboxMeta>(c.Labels);
      if (!meta || !isKind(c.Labels, 'sandbox')) continue;
      if (filter?.id && !c.Id.startsWith(filter.id)) continue;
      // The filters first, from the listing; the full record (for the
      // creation time in nanoseconds) only for what is returned.
      if (filter?.state && sandboxStateOf(c.State) !== (filter.state.state ?? 'SANDBOX_READY')) continue;
      if (!matchesSelector(meta.labels, filter?.label_selector)) continue;
      const created = await this.createdAt(c.Id);
      if (created === undefined) continue; // removed meanwhile
      out.push(this.sandboxOf({ Id: c.Id, Created: created, State: c.State }, meta));
    }
    return out;
  }

  // ---- containers ----

  async createContainer(podId: string, config: Maybe<ContainerConfig>, _sandboxConfig?: Maybe<PodSandboxConfig>): Promise<string> {
    const sb = await this.sandbox(requireId('pod sandbox', podId));
    const meta = metaOf<SandboxMeta>(sb.Config.Labels);
    if (!meta) throw notFound(`pod sandbox ${podId} has no CRI metadata`);
    const view: SandboxView = { id: sb.Id, meta, hostname: sb.Config.Hostname ?? '', hostConfig: sb.HostConfig };
    const plan = containerPlan(view, config);
    if (!sb.State.Running) throw failedPrecondition(`pod sandbox ${sb.Id} is not ready`);
    await this.nameFree('container', plan.name);
    const { Id } = await this.deps.containers.create(plan.req, { name: plan.name });
    return Id;
  }

  private async container(id: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
    const c = await this.deps.containers.inspect(requireId('container', id), opts).catch((e: unknown) => {
      throw is(e, 'not-found') || is(e, 'invalid') ? notFound(`container ${id} not found`) : e;
    });
    if (!isKind(c.Config.Labels, 'container')) throw notFound(`container ${id} not found`);
    return c;
  }

  async startContainer(id: string): Promise<void> {
    const c = await this.container(id);
    if (c.State.Status !== 'created') throw failedPrecondition(`container ${c.Id} is in state ${c.State.Status}: only a created container can be started`);
    await this.deps.containers.start(c.Id);
  }

  async stopContainer(id: string, timeout?: Int64): Promise<void> {
    const c = await this.container(id);
    await this.deps.containers.stop(c.Id, { timeout: Math.max(0, Number(timeout ?? 0)) });
  }

  async removeContainer(id: string): Promise<void> {
    let c: ContainerInspect;
    try {
      c = await this.container(requireId('container', id));
    } catch (e) {
      if (is(e, 'not-found')) return;
      throw e;
    }
    await this.removeQuietly(c.Id);
  }

  private containerOf(c: { Id: string; Created: string; State: string; Labels: Record<string, string> | null | undefined; ImageID: string }, meta: ContainerMeta): Container {
    return {
      id: c.Id,
      pod_sandbox_id: c.Labels?.[LABEL.sandboxId] ?? '',
      metadata: meta.metadata,
      image: { image: meta.image },
      image_ref: c.ImageID,
      image_id: c.ImageID,
      state: containerStateOf(c.State),
      created_at: nanosOf(c.Created),
      labels: meta.labels,
      annotations: meta.annotations,
    };
  }

  /** The pod containers the filter selects, decided from the listing alone. */
  private async matchingContainers(filter?: Maybe<ContainerFilter>): Promise<Array<{ c: ContainerSummary; meta: ContainerMeta }>> {
    const all = await this.deps.containers.list({ all: true, filters: { label: [`${LABEL.kind}=container`] } });
    const out: Array<{ c: ContainerSummary; meta: ContainerMeta }> = [];
    for (const c of all) {
      const meta = metaOf<ContainerMeta>(c.Labels);
      if (!meta || !isKind(c.Labels, 'container')) continue;
      if (filter?.id && !c.Id.startsWith(filter.id)) continue;
      if (filter?.pod_sandbox_id && !(c.Labels?.[LABEL.sandboxId] ?? '').startsWith(filter.pod_sandbox_id)) continue;
      if (filter?.state && containerStateOf(c.State) !== (filter.state.state ?? 'CONTAINER_CREATED')) continue;
      if (!matchesSelector(meta.labels, filter?.label_selector)) continue;
      out.push({ c, meta });
    }
    return out;
  }

  async listContainers(filter?: Maybe<ContainerFilter>): Promise<Container[]> {
    const out: Container[] = [];
    // The full record (for the creation time in nanoseconds) only for what is returned.
    for (const { c, meta } of await this.matchingContainers(filter)) {
      const created = await this.createdAt(c.Id);
      if (created === undefined) continue; // removed meanwhile
      out.push(this.containerOf({ ...c, Created: created }, meta));
    }
    return out;
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const c = await this.container(id);
    const meta = metaOf<ContainerMeta>(c.Config.Labels);
    if (!meta) throw notFound(`container ${id} has no CRI metadata`);
    const st = c.State;
    const state = containerStateOf(st.Status);
    // As containerd: the image's repo digest when it came from a registry, else its id.
    const img = await inspectImage(this.deps.images, c.Image).catch(() => undefined);
    const imageRef = img?.RepoDigests?.[0] ?? c.Image;
    return {
      id: c.Id,
      metadata: meta.metadata,
      state,
      created_at: nanosOf(c.Created),
      started_at: nanosOf(st.StartedAt),
      finished_at: state === 'CONTAINER_EXITED' ? nanosOf(st.FinishedAt) : '0',
      exit_code: state === 'CONTAINER_EXITED' ? st.ExitCode : 0,
      image: { image: meta.image },
      image_ref: imageRef,
      image_id: c.Image,
      reason: reasonOf(st),
      message: st.Error ?? '',
      labels: meta.labels,
      annotations: meta.annotations,
      mounts: meta.mounts.map((m) => ({ ...m, propagation: m.propagation as never })),
      log_path: meta.logPath,
    };
  }

  async updateContainerResources(id: string, linux: Maybe<LinuxContainerResources>): Promise<void> {
    const c = await this.container(id);
    const update = resourcesOf(linux);
    if (Object.keys(update).length === 0) return;
    await this.deps.containers.update(c.Id, update);
  }

  async reopenContainerLog(id: string): Promise<void> {
    const c = await this.container(id);
    await this.deps.containers.reopenLog(c.Id);
  }

  async execSync(id: string, cmd: string[], timeout?: Int64): Promise<{ stdout: Buffer; stderr: Buffer; exit_code: number }> {
    if (!cmd?.length) throw invalid('cmd is required');
    const c = await this.container(id);
    if (!c.State.Running) throw failedPrecondition(`container ${c.Id} is not running`);
    const { Id: execId } = await this.deps.containers.execCreate(c.Id, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const session = await this.deps.containers.execStart(execId, { Detach: false, Tty: false });
    if (!session) throw failedPrecondition(`exec ${execId} did not attach`);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const read = (async () => {
      for await (const chunk of session.output) (chunk.stream === 2 ? err : out).push(chunk.data);
    })();
    const secs = Number(timeout ?? 0);
    if (secs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), secs * 1000)));
      const res = await Promise.race([read.then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (res === 'timeout') {
        // As containerd: the command is killed, with what it started, before the call fails.
        let unkilled = '';
        await this.deps.containers.execKill(execId).catch((e: unknown) => (unkilled = ` (and killing it failed: ${messageOf(e)})`));
        session.close();
        read.catch(() => undefined);
        throw deadlineExceeded(`command ${JSON.stringify(cmd.join(' '))} timed out after ${secs}s${unkilled || ' and was killed'}`);
      }
    } else {
      await read;
    }
    // The exit code lands just after the output ends.
    let code: number | null = null;
    for (let i = 0; i < 100 && code === null; i++) {
      code = (await this.deps.containers.execInspect(execId)).ExitCode;
      if (code === null) await new Promise((r) => setTimeout(r, 20));
    }
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exit_code: code ?? -1 };
  }

  async containerStats(id: string): Promise<ContainerStats> {
    const c = await this.container(id, { size: true });
    return this.statsOf(c, await this.sample(c));
  }

  /** One reading of a container's cgroup (zeros when it is not running). */
  private async sample(c: { Id: string; State: { Running: boolean } }): Promise<Sample> {
    const zero: Sample = { cpu: 0, usage: 0, workingSet: 0, processes: 0, networks: {} };
    if (!c.State.Running) return zero;
    try {
      for await (const s of this.deps.containers.stats(c.Id, { stream: false, oneShot: true })) {
        const cs = s['cpu_stats'] as { cpu_usage?: { total_usage?: number } } | undefined;
        const ms = s['memory_stats'] as { usage?: number; stats?: Record<string, number> } | undefined;
        const usage = ms?.usage ?? 0;
        const inactive = ms?.stats?.['total_inactive_file'] ?? ms?.stats?.['inactive_file'] ?? 0;
        return {
          cpu: cs?.cpu_usage?.total_usage ?? 0,
          usage,
          workingSet: Math.max(0, usage - inactive),
          processes: (s['pids_stats'] as { current?: number } | undefined)?.current ?? 0,
          networks: (s['networks'] as Sample['networks'] | undefined) ?? {},
        };
      }
    } catch (e) {
      // It stopped (or went) since it was read as running.
      if (!is(e, 'not-found') && !is(e, 'conflict')) throw e;
    }
    return zero;
  }

  /** Of a record read with its size (the writable layer's use). */
  private statsOf(c: ContainerInspect, s: Sample): ContainerStats {
    const meta = metaOf<ContainerMeta>(c.Config.Labels);
    const now = nowNanos();
    return {
      attributes: { id: c.Id, metadata: meta?.metadata ?? { name: '', attempt: 0 }, labels: meta?.labels ?? {}, annotations: meta?.annotations ?? {} },
      cpu: { timestamp: now, usage_core_nano_seconds: { value: s.cpu } },
      memory: { timestamp: now, working_set_bytes: { value: s.workingSet }, usage_bytes: { value: s.usage } },
      writable_layer: { timestamp: now, fs_id: { mountpoint: this.deps.config.imageFsPath }, used_bytes: { value: c.SizeRw ?? 0 } },
    };
  }

  /** Each listed container's record is read once, with its size. */
  private async containerSamples(items: Array<{ c: ContainerSummary }>): Promise<Array<{ stats: ContainerStats; sample: Sample }>> {
    const out: Array<{ stats: ContainerStats; sample: Sample }> = [];
    for (const { c } of items) {
      try {
        const full = await this.deps.containers.inspect(c.Id, { size: true });
        const sample = await this.sample(full);
        out.push({ stats: this.statsOf(full, sample), sample });
      } catch (e) {
        if (!is(e, 'not-found')) throw e; // removed meanwhile
      }
    }
    return out;
  }

  async listContainerStats(filter?: Maybe<{ id?: string; pod_sandbox_id?: string; label_selector?: StringMap }>): Promise<ContainerStats[]> {
    const f = { ...(filter?.id ? { id: filter.id } : {}), ...(filter?.pod_sandbox_id ? { pod_sandbox_id: filter.pod_sandbox_id } : {}), label_selector: filter?.label_selector ?? {} };
    return (await this.containerSamples(await this.matchingContainers(f))).map((x) => x.stats);
  }

  /** As containerd: a sandbox that is not ready has no stats (UNAVAILABLE). */
  async podSandboxStats(id: string): Promise<PodSandboxStats> {
    const sb = await this.sandbox(id);
    const meta = metaOf<SandboxMeta>(sb.Config.Labels);
    if (!meta) throw notFound(`pod sandbox ${id} has no CRI metadata`);
    if (!sb.State.Running) throw unavailable(`pod sandbox ${sb.Id} is not ready`);
    return this.podStatsOf(sb.Id, meta, await this.matchingContainers({ pod_sandbox_id: sb.Id }));
  }

  /** The ready sandboxes' (as containerd); the pods' containers are listed once for all. */
  async listPodSandboxStats(filter?: Maybe<{ id?: string; label_selector?: StringMap }>): Promise<PodSandboxStats[]> {
    const all = await this.deps.containers.list({ all: true, filters: { label: [`${LABEL.kind}=sandbox`] } });
    const members = new Map<string, Array<{ c: ContainerSummary }>>();
    for (const m of await this.matchingContainers()) {
      const sb = m.c.Labels?.[LABEL.sandboxId] ?? '';
      const list = members.get(sb);
      if (list) list.push(m);
      else members.set(sb, [m]);
    }
    const out: PodSandboxStats[] = [];
    for (const c of all) {
      const meta = metaOf<SandboxMeta>(c.Labels);
      if (!meta || !isKind(c.Labels, 'sandbox') || c.State !== 'running') continue;
      if (filter?.id && !c.Id.startsWith(filter.id)) continue;
      if (!matchesSelector(meta.labels, filter?.label_selector)) continue;
      out.push(await this.podStatsOf(c.Id, meta, members.get(c.Id) ?? []));
    }
    return out;
  }

  /** The sandbox's own process (pause) plus every container of the pod:
   * kubelet gives each pod a cgroup parent of its own, but joey does not
   * rely on it, so the sum is taken over the containers' cgroups. The
   * network is the sandbox's namespace, which the containers share. */
  private async podStatsOf(id: string, meta: SandboxMeta, members: Array<{ c: ContainerSummary }>): Promise<PodSandboxStats> {
    const own = await this.sample({ Id: id, State: { Running: true } });
    const containers = await this.containerSamples(members);
    const all = [own, ...containers.map((x) => x.sample)];
    const sum = (f: (s: Sample) => number) => all.reduce((n, s) => n + f(s), 0);
    const now = nowNanos();
    const ifaces = meta.namespaces.network === 'NODE' ? [] : Object.entries(own.networks).map(([name, n]) => ({
      name,
      rx_bytes: { value: n.rx_bytes ?? 0 },
      rx_errors: { value: n.rx_errors ?? 0 },
      tx_bytes: { value: n.tx_bytes ?? 0 },
      tx_errors: { value: n.tx_errors ?? 0 },
    }));
    const def = ifaces.find((i) => i.name === DEFAULT_INTERFACE) ?? ifaces[0] ?? null;
    return {
      attributes: { id, metadata: meta.metadata, labels: meta.labels, annotations: meta.annotations },
      linux: {
        cpu: { timestamp: now, usage_core_nano_seconds: { value: sum((s) => s.cpu) } },
        memory: { timestamp: now, working_set_bytes: { value: sum((s) => s.workingSet) }, usage_bytes: { value: sum((s) => s.usage) } },
        network: { timestamp: now, default_interface: def, interfaces: ifaces.filter((i) => i !== def) },
        process: { timestamp: now, process_count: { value: sum((s) => s.processes) } },
        containers: containers.map((x) => x.stats),
      },
    };
  }

  // ---- images (images.ts) ----

  pullImage(image: Maybe<ImageSpec>, auth?: Maybe<AuthConfig>): Promise<string> {
    return pullImage(this.deps.images, image, auth);
  }

  imageStatus(image: Maybe<ImageSpec>): Promise<Image | null> {
    return imageStatus(this.deps.images, image);
  }

  listImages(filter?: Maybe<{ image?: Maybe<ImageSpec> }>): Promise<Image[]> {
    return listImages(this.deps.images, filter);
  }

  removeImage(image: Maybe<ImageSpec>): Promise<void> {
    return removeImage(this.deps.images, image);
  }

  async imageFsInfo(): Promise<FilesystemUsage[]> {
    const du = await this.deps.system.diskUsage({ types: ['image'] });
    return [{ timestamp: nowNanos(), fs_id: { mountpoint: this.deps.config.imageFsPath }, used_bytes: { value: du.LayersSize }, inodes_used: { value: 0 } }];
  }
}
