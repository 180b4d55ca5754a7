// Push: the stored manifest, config and layer blobs go to the registry as they
// are, so the digest the registry reports is the one we pulled or built.
import { invalid, notFound } from '../errdefs/index.ts';
import { familiarString, formatReference, parseReference } from '../reference/index.ts';
import type { Reference } from '../reference/types.ts';
import type { AuthConfig, Descriptor, Repository } from '../remotes/types.ts';
import { Limiter } from '../util/concurrency.ts';
import type { ImageContext } from './context.ts';
import { MT } from './media-types.ts';
import { parseManifest } from './oci.ts';
import type { ProgressFn } from './types.ts';
import { shortId } from './unpack.ts';

export interface PushOptions {
  tag?: string;
  auth?: AuthConfig;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}

export async function push(ctx: ImageContext, name: string, opts: PushOptions = {}): Promise<{ tag: string; digest: string; size: number }> {
  const base = parseReference(name);
  if (base.digest) throw invalid(`cannot push a digest reference: ${name}`);
  const tag = opts.tag || base.tag;
  const repoName = formatReference({ ...base, tag: undefined });
  const tags = tag ? [tag] : ctx.store.allTags().filter((t) => t.name.startsWith(repoName + ':')).map((t) => t.name.slice(repoName.length + 1));
  if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarString({ ...base, tag: undefined })}`);
  const progress = opts.onProgress ?? (() => undefined);
  progress({ kind: 'message', text: `The push refers to repository [${formatReference({ ...base, tag: undefined })}]` });
  let last = { tag: '', digest: '', size: 0 };
  for (const t of tags) {
    const ref: Reference = { ...base, tag: t };
    const id = ctx.store.tagTarget(formatReference(ref));
    if (!id) throw notFound(`An image does not exist locally with the tag: ${familiarString(ref)}`);
    last = await pushOne(ctx, ref, id, opts, progress);
  }
  return last;
}

async function pushOne(ctx: ImageContext, ref: Reference, id: string, opts: PushOptions, progress: ProgressFn): Promise<{ tag: string; digest: string; size: number }> {
  const rec = ctx.store.get(id)!;
  const repo = ctx.deps.registry.repository(ref, opts.auth);
  const manifestBytes = await ctx.content.readBytes(rec.manifestDigest, 4 << 20);
  const manifest = parseManifest(manifestBytes);
  const release = ctx.leases.add([rec.manifestDigest, rec.id, ...manifest.layers.map((l) => l.digest)]);
  ctx.stats.pushes++;
  try {
    const limiter = new Limiter(ctx.deps.maxConcurrentUploads);
    // Docker lists layers top first.
    const layers = [...manifest.layers].reverse();
    for (const l of layers) progress({ kind: 'layer', id: shortId(l.digest), phase: 'waiting' });
    await Promise.all(layers.map((l) => limiter.run(() => pushBlob(ctx, repo, ref, l, progress, true))));
    await pushBlob(ctx, repo, ref, manifest.config, progress, false);
    const digest = await repo.putManifest(ref.tag!, rec.manifestMediaType || MT.dockerManifest, manifestBytes);
    const finalDigest = digest || rec.manifestDigest;
    ctx.deps.db.transaction(() => ctx.store.setDigest(`${formatReference({ ...ref, tag: undefined })}@${finalDigest}`, id));
    progress({ kind: 'message', text: `${ref.tag}: digest: ${finalDigest} size: ${manifestBytes.length}` });
    progress({ kind: 'aux', data: { Tag: ref.tag, Digest: finalDigest, Size: manifestBytes.length } });
    ctx.events.publish({ Type: 'image', Action: 'push', Actor: { ID: familiarString(ref), Attributes: { name: familiarString(ref) } }, status: 'push', id: familiarString(ref) });
    return { tag: ref.tag!, digest: finalDigest, size: manifestBytes.length };
  } finally {
    release();
  }
}

async function pushBlob(ctx: ImageContext, repo: Repository, ref: Reference, desc: Descriptor, progress: ProgressFn, visible: boolean): Promise<void> {
  const id = shortId(desc.digest);
  const say = visible ? progress : () => undefined;
  if (await repo.blobExists(desc)) {
    say({ kind: 'layer', id, phase: 'layer-exists' });
    return;
  }
  // Cross-repository mount from a repository on the same registry that we
  // know holds the blob (we pulled from or pushed to it).
  for (const name of ctx.store.namesWithBlob(desc.digest)) {
    let other: Reference;
    try {
      other = parseReference(name);
    } catch {
      continue;
    }
    if (other.domain !== ref.domain || other.path === ref.path) continue;
    if (await repo.mountBlob(desc, other.path).catch(() => false)) {
      say({ kind: 'layer', id, phase: 'mounted', from: other.path });
      return;
    }
  }
  let lastReport = 0;
  await repo.pushBlob(
    desc,
    () => ctx.content.reader(desc.digest),
    (sent) => {
      const now = Date.now();
      if (now - lastReport > 100 || sent === desc.size) {
        lastReport = now;
        say({ kind: 'layer', id, phase: 'pushing', current: sent, total: desc.size });
      }
    },
  );
  ctx.stats.bytesPushed += desc.size;
  say({ kind: 'layer', id, phase: 'pushed' });
}
