// How a pod's sandbox and containers are recorded: as ordinary joey
// containers whose labels (joey-owned keys) carry the CRI's metadata, so it
// survives a daemon restart with the containers, and whose names follow
// dockershim's, so `docker ps` on joeyd reads familiarly.
import { invalid } from '../../errdefs/index.ts';
import type { ContainerMetadata, NamespaceOption, PodSandboxMetadata, StringMap } from './types.ts';

export const LABEL = {
  /** "sandbox" or "container": what the CRI made. */
  kind: 'io.joey.cri.kind',
  /** A container's sandbox id. */
  sandboxId: 'io.joey.cri.sandbox-id',
  /** JSON: SandboxMeta or ContainerMeta. */
  meta: 'io.joey.cri.meta',
} as const;

export type Kind = 'sandbox' | 'container';

/** What a sandbox needs to remember beyond what its container records. */
export interface SandboxMeta {
  metadata: Required<PodSandboxMetadata>;
  labels: StringMap;
  annotations: StringMap;
  logDirectory: string;
  runtimeHandler: string;
  namespaces: { network: string; pid: string; ipc: string };
}

export interface ContainerMeta {
  metadata: Required<ContainerMetadata>;
  labels: StringMap;
  annotations: StringMap;
  /** The image as the client named it. */
  image: string;
  /** Absolute, or '' when the pod has no log directory. */
  logPath: string;
  mounts: Array<{ container_path: string; host_path: string; readonly: boolean; propagation: string }>;
}

export function isKind(labels: Record<string, string> | null | undefined, kind: Kind): boolean {
  return labels?.[LABEL.kind] === kind;
}

/** The meta of a container's labels; undefined when they hold none or a broken one. */
export function metaOf<T extends SandboxMeta | ContainerMeta>(labels: Record<string, string> | null | undefined): T | undefined {
  const raw = labels?.[LABEL.meta];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

/** The labels of a CRI object: the client's, for `docker ps` and label
 * filters, then joey's own keys over them. */
export function labelsFor(kind: Kind, meta: SandboxMeta | ContainerMeta, sandboxId?: string): Record<string, string> {
  return {
    ...meta.labels,
    [LABEL.kind]: kind,
    ...(sandboxId ? { [LABEL.sandboxId]: sandboxId } : {}),
    [LABEL.meta]: JSON.stringify(meta),
  };
}

// Parts of a name: container names allow [a-zA-Z0-9_.-] and dockershim
// joins the parts with "_".
const PART_RE = /^[a-zA-Z0-9][a-zA-Z0-9.-]*$/;

function part(what: string, v: string): string {
  if (!PART_RE.test(v)) throw invalid(`${what} ${JSON.stringify(v)} is not valid: expected letters, digits, "-" and "."`);
  return v;
}

/** Checks a sandbox's metadata: name, namespace and uid are required. */
export function sandboxMetadata(m: PodSandboxMetadata | null | undefined): Required<PodSandboxMetadata> {
  if (!m) throw invalid('sandbox config must include metadata');
  for (const k of ['name', 'namespace', 'uid'] as const) if (!m[k]) throw invalid(`sandbox config must include metadata.${k}`);
  return { name: part('metadata.name', m.name!), namespace: part('metadata.namespace', m.namespace!), uid: part('metadata.uid', m.uid!), attempt: m.attempt ?? 0 };
}

export function containerMetadata(m: ContainerMetadata | null | undefined): Required<ContainerMetadata> {
  if (!m?.name) throw invalid('container config must include metadata.name');
  return { name: part('metadata.name', m.name), attempt: m.attempt ?? 0 };
}

/** k8s_POD_<name>_<namespace>_<uid>_<attempt>, as dockershim named sandboxes. */
export function sandboxName(m: Required<PodSandboxMetadata>): string {
  return ['k8s', 'POD', m.name, m.namespace, m.uid, String(m.attempt)].join('_');
}

/** k8s_<container>_<pod>_<namespace>_<uid>_<attempt>. */
export function containerName(c: Required<ContainerMetadata>, pod: Required<PodSandboxMetadata>): string {
  return ['k8s', c.name, pod.name, pod.namespace, pod.uid, String(c.attempt)].join('_');
}

/** The namespace modes of a sandbox, as the client gave them (POD when unset). */
export function sandboxNamespaces(o: NamespaceOption | null | undefined): SandboxMeta['namespaces'] {
  const m = (v: string | undefined) => v || 'POD';
  return { network: m(o?.network), pid: m(o?.pid), ipc: m(o?.ipc) };
}

/** Whether `labels` has every key=value of `selector`. */
export function matchesSelector(labels: StringMap, selector: StringMap | null | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** An RFC 3339 time (as joey records them) in nanoseconds since the epoch,
 * as a decimal string (beyond a double's exact range); the zero time is 0. */
export function nanosOf(iso: string | undefined): string {
  if (!iso || iso.startsWith('0001-')) return '0';
  const m = /^(.*?:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  const secs = Date.parse(m ? `${m[1]}${m[3]}` : iso);
  if (Number.isNaN(secs)) return '0';
  const frac = m?.[2] ? (m[2] + '000000000').slice(0, 9) : '000000000';
  return (BigInt(Math.floor(secs / 1000)) * 1_000_000_000n + BigInt(frac)).toString();
}

export function nowNanos(): string {
  return (BigInt(Date.now()) * 1_000_000n).toString();
}
