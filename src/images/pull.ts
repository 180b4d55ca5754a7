// Pull: reference -> resolve -> (index -> platform manifest) -> config ->
// layers fetched and unpacked in parallel -> chain committed in order ->
// image record. Nothing becomes visible before every digest is verified.
import { dataLoss, invalid, is, notFound } from '../errdefs/index.ts';
import { familiarString, formatReference, parseReference, withDefaultTag } from '../reference/index.ts';
import type { Reference } from '../reference/types.ts';
import type { Descriptor, Repository } from '../remotes/types.ts';
import { Limiter } from '../util/concurrency.ts';
import { readAll, verifyDigest } from '../util/streams.ts';
import type { ImageContext } from './context.ts';
import { isIndex } from './media-types.ts';
import { chainIds, configPlatform, parseConfig, parseIndex, parseManifest, sniffMediaType, type ImageConfigFile, type Manifest } from './oci.ts';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from './platform.ts';
import { recordImage } from './register.ts';
import type { PullOptions, PullResult } from './types.ts';
import { shortId } from './unpack.ts';
import type { Platform } from '../remotes/types.ts';

const MAX_CONFIG = 8 << 20;

export async function pull(ctx: ImageContext, refStr: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = withDefaultTag(parseReference(refStr));
  const want = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const progress = opts.onProgress ?? (() => undefined);
  const repo = ctx.deps.registry.repository(ref, opts.auth);
  ctx.stats.pulls++;
  // Everything this pull brings in is kept from GC until the image is recorded.
  const releases: Array<() => void> = [];
  try {
    // Resolve before the first progress line, so that a missing image is a
    // plain 404 rather than an error in the middle of a stream.
    const root = await repo.resolve();
    progress({ kind: 'message', id: ref.digest ?? ref.tag, text: `Pulling from ${ref.path}` });
    const rootBytes = await repo.fetchManifest(root);
    const { manifestDesc, manifestBytes } = await selectManifest(repo, ref, root, rootBytes, want);
    const manifest = parseManifest(manifestBytes);
    releases.push(ctx.leases.add([manifest.config.digest, ...manifest.layers.map((l) => l.digest)]));
    const { config, configBytes } = await fetchConfig(ctx, repo, manifest);
    if (!platformMatches(want, configPlatform(config))) {
      if (isIndex(root.mediaType) || opts.platform) {
        throw notFound(`image ${formatReference(ref)} for platform ${formatPlatform(want)} has a config for ${formatPlatform(configPlatform(config))}`);
      }
      // A single-platform image for another platform: Docker pulls it and warns.
    }
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw dataLoss(`image ${formatReference(ref)}: the manifest lists ${manifest.layers.length} layers but the config has ${config.rootfs.diff_ids.length} diff ids`);
    }
    const id = manifest.config.digest;
    const existed = ctx.store.get(id) !== undefined;
    const chains = chainIds(config.rootfs.diff_ids);
    releases.push(ctx.leases.add([manifestDesc.digest, ...chains]));
    const anyDownloaded = await fetchLayers(ctx, repo, manifest, config, chains, opts);
    const repoName = formatReference({ ...ref, tag: undefined, digest: undefined });
    await recordImage(ctx, {
      manifestDesc,
      manifestBytes,
      manifest,
      config,
      configBytes,
      chains,
      tags: ref.tag ? [formatReference({ ...ref, digest: undefined })] : [],
      digests: [`${repoName}@${root.digest}`],
    });
    const name = familiarString(ref);
    progress({ kind: 'message', text: `Digest: ${root.digest}` });
    const downloaded = anyDownloaded || !existed;
    progress({ kind: 'message', text: downloaded ? `Status: Downloaded newer image for ${name}` : `Status: Image is up to date for ${name}` });
    ctx.events.publish({ Type: 'image', Action: 'pull', Actor: { ID: formatReference(ref).replace(/^docker\.io\/(library\/)?/, ''), Attributes: { name: familiarString(ref) } }, status: 'pull', id: familiarString(ref) });
    return { id, digest: root.digest, name: formatReference(ref), downloaded };
  } catch (e) {
    ctx.stats.pullFailures++;
    // As dockerd: a registry cannot tell "private" from "absent", so a denied
    // pull is reported as not found (a 401 would make clients prompt for a
    // login in the middle of a pull).
    if (is(e, 'unauthorized') || is(e, 'forbidden')) throw notFound((e as Error).message, e);
    throw e;
  } finally {
    for (const r of releases) r();
  }
}

async function selectManifest(
  repo: Repository,
  ref: Reference,
  root: Descriptor,
  rootBytes: Buffer,
  want: Platform,
): Promise<{ manifestDesc: Descriptor; manifestBytes: Buffer }> {
  const mt = sniffMediaType(rootBytes, root.mediaType);
  if (!isIndex(mt)) return { manifestDesc: { ...root, mediaType: mt }, manifestBytes: rootBytes };
  const index = parseIndex(rootBytes);
  const choice = index.manifests.find((m) => platformMatches(want, m.platform));
  if (!choice) {
    const offered = index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : 'unknown')).join(', ');
    throw notFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries of ${formatReference(ref)} (it has: ${offered || 'none'})`);
  }
  const bytes = await repo.fetchManifest(choice);
  const inner = sniffMediaType(bytes, choice.mediaType);
  if (isIndex(inner)) throw invalid(`${formatReference(ref)}: nested image indexes are not supported`);
  return { manifestDesc: { ...choice, mediaType: inner }, manifestBytes: bytes };
}

async function fetchConfig(ctx: ImageContext, repo: Repository, manifest: Manifest): Promise<{ config: ImageConfigFile; configBytes: Buffer }> {
  const d = manifest.config;
  if (d.size > MAX_CONFIG) throw invalid(`image config ${d.digest} is too large (${d.size} bytes)`);
  const bytes = await ctx.configFlights.do(d.digest, async () => {
    if (await ctx.content.info(d.digest)) return ctx.content.readBytes(d.digest, MAX_CONFIG);
    const b = await readAll(await repo.fetchBlob(d), MAX_CONFIG, `image config ${d.digest}`);
    verifyDigest(b, d.digest, 'image config');
    // Stored at once, so that a pull of the same image that starts a moment
    // later reads it here instead of fetching it again.
    await ctx.content.writeBytes(b, d.digest);
    return b;
  });
  // The exact bytes are stored: their digest is the image id.
  return { config: parseConfig(bytes), configBytes: bytes };
}

async function fetchLayers(
  ctx: ImageContext,
  repo: Repository,
  manifest: Manifest,
  config: ImageConfigFile,
  chains: string[],
  opts: PullOptions,
): Promise<boolean> {
  const limiter = new Limiter(ctx.deps.maxConcurrentDownloads);
  const done: Array<Promise<'exists' | 'done'>> = [];
  const progress = opts.onProgress;
  let downloaded = false;
  manifest.layers.forEach((layer, i) => {
    const parentDone = i > 0 ? done[i - 1]!.catch(() => undefined) : undefined;
    const p = ctx.unpacker.ensure({
      blob: layer,
      diffId: config.rootfs.diff_ids[i]!,
      chainId: chains[i]!,
      parentChainId: i > 0 ? chains[i - 1] : undefined,
      parentDone,
      onProgress: progress,
      signal: opts.signal,
      open: (offset, signal) => repo.fetchBlob(layer, { offset, signal }),
      ...(repo.blobCorrupt ? { retryCorrupt: () => repo.blobCorrupt!(layer) } : {}),
      ...(repo.sharesDownloads ? { dropPartial: true } : {}),
      limit: (fn) => limiter.run(fn),
    });
    done.push(p);
  });
  const results = await Promise.allSettled(done);
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) throw failed.reason;
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      if (r.value === 'exists') progress?.({ kind: 'layer', id: shortId(manifest.layers[i]!.digest), phase: 'already-exists' });
      else downloaded = true;
    }
  });
  return downloaded;
}
