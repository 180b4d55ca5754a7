// docker commit: the container's upper dir as a new layer on its image, with
// the container's config (merged with the request's and --change lines) as
// the image's. The container is paused meanwhile unless asked not to be.
import { packTree } from '../../archive/pack-tree.ts';
import { ScopedRoot } from '../../archive/scoped-root.ts';
import { conflict, notFound } from '../../errdefs/index.ts';
import { applyChanges } from '../../images/changes.ts';
import { commitImage } from '../../images/commit.ts';
import type { ImageConfig } from '../../images/types.ts';
import { formatReference, parseReference, withDefaultTag } from '../../reference/index.ts';
import { log } from '../../util/log.ts';
import { isEngineManaged, upperDirAttrs } from './changes.ts';
import type { ContainerContext } from './context.ts';
import { findContainer } from './lookup.ts';
import type { ContainerConfig } from './types.ts';
import type { ContainerRecord } from './record.ts';

export interface CommitOptions {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause?: boolean;
  changes?: string[];
  config?: ContainerConfig;
}

const envKey = (e: string): string => e.split('=')[0]!;

/** Docker's merge (daemon/commit.go): what the request sets wins, and the
 * container's config fills in the rest. */
export function mergeCommitConfig(user: ImageConfig, container: ImageConfig): ImageConfig {
  const c: ImageConfig = { ...user };
  if (!c.User) c.User = container.User ?? '';
  if (!c.ExposedPorts || Object.keys(c.ExposedPorts).length === 0) c.ExposedPorts = container.ExposedPorts;
  else c.ExposedPorts = { ...(container.ExposedPorts ?? {}), ...c.ExposedPorts };
  if (!c.Env?.length) c.Env = container.Env;
  else {
    const own = new Set(c.Env.map(envKey));
    c.Env = [...c.Env, ...(container.Env ?? []).filter((e) => !own.has(envKey(e)))];
  }
  c.Labels = { ...(container.Labels ?? {}), ...(c.Labels ?? {}) };
  if (!c.Entrypoint?.length) {
    if (!c.Cmd?.length) c.Cmd = container.Cmd;
    if (c.Entrypoint === undefined || c.Entrypoint === null) c.Entrypoint = container.Entrypoint;
  }
  if (!c.Healthcheck) c.Healthcheck = container.Healthcheck;
  if (!c.WorkingDir) c.WorkingDir = container.WorkingDir ?? '';
  if (!c.Volumes || Object.keys(c.Volumes).length === 0) c.Volumes = container.Volumes;
  else c.Volumes = { ...c.Volumes, ...(container.Volumes ?? {}) };
  if (!c.StopSignal) c.StopSignal = container.StopSignal;
  for (const k of Object.keys(c) as Array<keyof ImageConfig>) if (c[k] === undefined) delete c[k];
  return c;
}

/** The name to tag the new image with, checked before any work is done. */
function tagName(repo: string | undefined, tag: string | undefined): string | undefined {
  if (!repo) return undefined;
  return formatReference(withDefaultTag(parseReference(tag ? `${repo}:${tag}` : repo)));
}

/** The container's upper dir as a new layer on its image, with `config` as
 * the new image's config as given (no merge). Call with the container's lock
 * held (the build does, for containers of its own). */
export async function commitUpperDir(
  cx: ContainerContext,
  c: ContainerRecord,
  input: { config: ImageConfig; createdBy: string; comment?: string; author?: string; tags: string[] },
): Promise<string> {
  const upperDir = await cx.deps.snapshots.upperDir(c.id);
  // File capabilities and user.* attributes go into the layer, as Docker's do.
  const { opaque, xattrs } = await upperDirAttrs(upperDir);
  const upper = await ScopedRoot.open(upperDir);
  try {
    const layer = packTree(upper, upper.root, '.', '', { format: 'layer', opaque, exclude: isEngineManaged, xattrs });
    return await commitImage(cx.deps.images, { baseImageId: c.imageId, layer, containerId: c.id, ...input });
  } finally {
    await upper.close();
  }
}

export async function commitContainer(cx: ContainerContext, opts: CommitOptions): Promise<{ Id: string }> {
  const found = findContainer(cx, opts.container);
  const name = tagName(opts.repo, opts.tag);
  const requested = applyChanges(opts.config ?? {}, opts.changes ?? []);
  const id = await cx.lock(found.id, async () => {
    const c = cx.store.get(found.id);
    if (!c) throw notFound(`No such container: ${opts.container}`);
    if (c.state.Status === 'removing' || c.state.Dead) throw conflict(`cannot commit container ${c.id}: it is ${c.state.Status}`);
    const config = mergeCommitConfig(requested, c.config);
    const rt = cx.runtimeOf(c);
    const pause = opts.pause !== false && c.state.Running && !c.state.Paused;
    if (pause) await rt.pause(c.id);
    try {
      return await commitUpperDir(cx, c, {
        config,
        createdBy: (c.config.Cmd ?? []).join(' '),
        comment: opts.comment,
        author: opts.author,
        tags: name ? [name] : [],
      });
    } finally {
      if (pause) await rt.resume(c.id).catch((e) => log.warn('resuming a container after commit failed', { container: c.id, err: e }));
    }
  });
  cx.deps.events.publish({
    Type: 'container',
    Action: 'commit',
    Actor: { ID: found.id, Attributes: { name: found.name, comment: opts.comment ?? '', imageID: id, imageRef: name ?? '' } },
    status: 'commit',
    id: found.id,
    from: found.imageRef,
  });
  return { Id: id };
}
