// Reading images: resolving names, list with filters, inspect, history.
import { invalid, notFound, is } from '../errdefs/index.ts';
import { familiarString, parseReference, withDefaultTag, formatReference } from '../reference/index.ts';
import { checkFilterKeys, labelMatches, parseTimeFilter } from '../util/filters.ts';
import type { ImageContext } from './context.ts';
import { parseConfig, type ImageConfigFile } from './oci.ts';
import type { ImageRecord } from './store.ts';
import type { Filters, HistoryEntry, ImageConfig, ImageInspect, ImageSummary } from './types.ts';

const FULL_ID = /^(?:sha256:)?([a-f0-9]{64})$/;
const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{1,63})$/;

/** Docker's lookup order: a full id, then a reference (tag or digest), then an id prefix. */
export function resolveImage(ctx: ImageContext, nameOrId: string): ImageRecord {
  const s = nameOrId.trim();
  const full = FULL_ID.exec(s);
  if (full) {
    const rec = ctx.store.get(`sha256:${full[1]}`);
    if (rec) return rec;
  }
  let refError: unknown;
  if (!s.startsWith('sha256:')) {
    try {
      const ref = parseReference(s);
      const id = ref.digest ? ctx.store.digestTarget(formatReference({ ...ref, tag: undefined })) : ctx.store.tagTarget(formatReference(withDefaultTag(ref)));
      if (id) {
        const rec = ctx.store.get(id);
        if (rec) return rec;
      }
    } catch (e) {
      if (!is(e, 'invalid')) throw e;
      refError = e;
    }
  }
  const prefix = ID_PREFIX.exec(s);
  if (prefix) {
    const ids = ctx.store.byIdPrefix(prefix[1]!);
    if (ids.length > 1) throw invalid(`image id prefix ${s} is ambiguous`);
    if (ids.length === 1) return ctx.store.get(ids[0]!)!;
  }
  if (refError && !prefix) throw refError;
  throw notFound(`No such image: ${nameOrId}`);
}

const configCache = new Map<string, ImageConfigFile>();

export async function imageConfig(ctx: ImageContext, id: string): Promise<ImageConfigFile> {
  const cached = configCache.get(id);
  if (cached) return cached;
  const cfg = parseConfig(await ctx.content.readBytes(id, 8 << 20));
  if (configCache.size > 1000) configCache.clear();
  configCache.set(id, cfg);
  return cfg;
}

function unix(created: string | null | undefined): number {
  const t = created ? Date.parse(created) : NaN;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

function familiarNames(names: string[]): string[] {
  return names.map((n) => familiarString(parseReference(n))).sort();
}

const LIST_FILTERS = new Set(['dangling', 'label', 'before', 'since', 'reference', 'until']);

/** Glob match as Docker's reference filter does (path.Match on the familiar name). */
function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
  return re.test(s);
}

function matchReference(patterns: string[], familiar: string): boolean {
  return patterns.some((p) => {
    const repo = familiar.replace(/(:[^/:]+|@sha256:[a-f0-9]+)$/, '');
    return globMatch(p, familiar) || globMatch(p, repo);
  });
}

function boolFilter(key: string, vals: string[]): boolean {
  const v = vals[vals.length - 1]!.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalid(`invalid filter '${key}=${vals[vals.length - 1]}': expected true or false`);
}

function labelsMatch(want: string[], labels: Record<string, string>): boolean {
  return want.every((w) => labelMatches(labels, w));
}

export function validateFilters(filters: Filters | undefined, allowed: Set<string>): Filters {
  return checkFilterKeys(filters, allowed);
}

export async function listImages(ctx: ImageContext, opts: { filters?: Filters; all?: boolean } = {}): Promise<ImageSummary[]> {
  const f = validateFilters(opts.filters, LIST_FILTERS);
  const dangling = f.dangling?.length ? boolFilter('dangling', f.dangling) : undefined;
  const before = f.before?.length ? unix(resolveCreated(ctx, f.before[0]!)) : undefined;
  const since = f.since?.length ? unix(resolveCreated(ctx, f.since[0]!)) : undefined;
  const until = f.until?.length ? parseTimeFilter(f.until[0]!) : undefined;
  const out: ImageSummary[] = [];
  for (const rec of ctx.store.all()) {
    let tags = familiarNames(ctx.store.tags(rec.id));
    const digests = familiarNames(ctx.store.digests(rec.id));
    if (!opts.all && tags.length === 0 && ctx.isIntermediate(rec.id)) continue;
    if (dangling !== undefined && (tags.length === 0) !== dangling) continue;
    if (f.reference?.length) {
      tags = tags.filter((t) => matchReference(f.reference!, t));
      if (tags.length === 0 && !digests.some((d) => matchReference(f.reference!, d))) continue;
    }
    const cfg = await imageConfig(ctx, rec.id);
    const labels = cfg.config?.Labels ?? {};
    if (f.label?.length && !labelsMatch(f.label, labels)) continue;
    const created = unix(rec.created);
    if (before !== undefined && !(created < before)) continue;
    if (since !== undefined && !(created > since)) continue;
    if (until !== undefined && !(created < until)) continue;
    out.push({
      Id: rec.id,
      ParentId: '',
      RepoTags: tags,
      RepoDigests: digests,
      Created: created,
      Size: rec.size,
      SharedSize: -1,
      VirtualSize: rec.size,
      Labels: labels,
      Containers: -1,
    });
  }
  out.sort((a, b) => b.Created - a.Created);
  return out;
}

function resolveCreated(ctx: ImageContext, name: string): string | null {
  return resolveImage(ctx, name).created;
}

/** An image config with every field Docker shows, unset. */
const emptyConfig = (): ImageConfig => ({
  Hostname: '',
  Domainname: '',
  User: '',
  AttachStdin: false,
  AttachStdout: false,
  AttachStderr: false,
  Tty: false,
  OpenStdin: false,
  StdinOnce: false,
  Env: null,
  Cmd: null,
  Image: '',
  Volumes: null,
  WorkingDir: '',
  Entrypoint: null,
  OnBuild: null,
  Labels: null,
});

export async function inspectImage(ctx: ImageContext, nameOrId: string): Promise<ImageInspect> {
  const rec = resolveImage(ctx, nameOrId);
  const cfg = await imageConfig(ctx, rec.id);
  const layers = ctx.store.layers(rec.id);
  const config: ImageConfig = { ...emptyConfig(), ...(cfg.config ?? {}) };
  return {
    Id: rec.id,
    RepoTags: familiarNames(ctx.store.tags(rec.id)),
    RepoDigests: familiarNames(ctx.store.digests(rec.id)),
    Parent: '',
    Comment: cfg.comment ?? '',
    Created: cfg.created ?? new Date(0).toISOString(),
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: config,
    // Deprecated in API 1.44 and gone from dockerd's answers since 1.45, but
    // docker-compose 1.29 reads ContainerConfig.Volumes on every recreate and
    // fails without it (KeyError), at whatever version it negotiated.
    ContainerConfig: cfg.container_config ? { ...emptyConfig(), ...cfg.container_config } : config,
    Architecture: cfg.architecture,
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Os: cfg.os,
    ...(cfg['os.version'] ? { OsVersion: cfg['os.version'] } : {}),
    Size: rec.size,
    VirtualSize: rec.size,
    GraphDriver: { Name: 'overlayfs', Data: null },
    RootFS: { Type: 'layers', Layers: layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: rec.lastTagTime ? new Date(rec.lastTagTime).toISOString() : '0001-01-01T00:00:00Z' },
    Descriptor: { mediaType: rec.manifestMediaType, digest: rec.manifestDigest, size: rec.manifestSize },
  };
}

export async function imageHistory(ctx: ImageContext, nameOrId: string): Promise<HistoryEntry[]> {
  const rec = resolveImage(ctx, nameOrId);
  const cfg = await imageConfig(ctx, rec.id);
  const layers = ctx.store.layers(rec.id);
  const sizes: number[] = [];
  for (const l of layers) {
    try {
      sizes.push((await ctx.snapshots.stat(l.chainId)).size);
    } catch {
      sizes.push(0);
    }
  }
  const hist = cfg.history?.length ? cfg.history : layers.map(() => ({ created: cfg.created, created_by: '' }));
  let li = 0;
  const out: HistoryEntry[] = hist.map((h) => {
    const empty = 'empty_layer' in h && h.empty_layer;
    const size = empty ? 0 : (sizes[li++] ?? 0);
    return { Id: '<missing>', Created: unix(h.created), CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: ('comment' in h && h.comment) || '' };
  });
  out.reverse();
  if (out[0]) {
    out[0].Id = rec.id;
    const tags = familiarNames(ctx.store.tags(rec.id));
    out[0].Tags = tags.length ? tags : null;
  }
  return out;
}
