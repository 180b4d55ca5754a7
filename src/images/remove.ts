// Tag, untag and delete, with Docker's rules, then prune.
import { conflict, invalid, is, notFound } from '../errdefs/index.ts';
import { familiarString, formatReference, parseReference, withDefaultTag } from '../reference/index.ts';
import type { ImageContext } from './context.ts';
import { collectGarbage } from './gc.ts';
import { labelMatches, parseTimeFilter } from '../util/filters.ts';
import { imageConfig, resolveImage, validateFilters } from './query.ts';
import type { DeleteResponseItem, Filters } from './types.ts';

function familiar(full: string): string {
  return familiarString(parseReference(full));
}

export function tagImage(ctx: ImageContext, source: string, repo: string, tag?: string): void {
  const rec = resolveImage(ctx, source);
  const target = parseReference(tag ? `${repo}:${tag}` : repo);
  if (target.digest) throw invalid(`refusing to create a tag with a digest reference: ${repo}${tag ? ':' + tag : ''}`);
  const name = formatReference(withDefaultTag(target));
  ctx.deps.db.transaction(() => ctx.store.setTag(name, rec.id));
  ctx.events.publish({ Type: 'image', Action: 'tag', Actor: { ID: rec.id, Attributes: { name: familiar(name) } }, status: 'tag', id: rec.id });
}

/** Is `name` a reference the user typed (tag or digest), rather than an id? */
function asReference(nameOrId: string): string | undefined {
  if (/^(sha256:)?[a-f0-9]{1,64}$/.test(nameOrId)) return undefined;
  try {
    const ref = parseReference(nameOrId);
    return formatReference(ref.digest ? { ...ref, tag: undefined } : withDefaultTag(ref));
  } catch (e) {
    if (is(e, 'invalid')) return undefined;
    throw e;
  }
}

export async function removeImage(ctx: ImageContext, nameOrId: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<DeleteResponseItem[]> {
  const rec = resolveImage(ctx, nameOrId);
  const out: DeleteResponseItem[] = [];
  const tags = ctx.store.tags(rec.id);
  const users = ctx.inUse(rec.id);
  const lastName = tags.length + ctx.store.digests(rec.id).length <= 1;
  if (users.length && !opts.force && (lastName || !asReference(nameOrId))) {
    throw conflict(`conflict: unable to delete ${rec.id.slice(7, 19)} (must be forced) - image is being used by container ${users[0]!.slice(0, 12)}`);
  }
  const digests = ctx.store.digests(rec.id);
  const byRef = asReference(nameOrId);
  const refMatches = byRef !== undefined && (tags.includes(byRef) || digests.includes(byRef));

  if (refMatches) {
    // Removing by name untags it. When no tag of that repository remains,
    // its digest references go too; the image goes with its last name.
    const ref = byRef!;
    const repoOf = (n: string) => n.replace(/(@sha256:[a-f0-9]{64}|:[^/:]+)$/, '');
    ctx.deps.db.transaction(() => (tags.includes(ref) ? ctx.store.removeTag(ref) : ctx.store.removeDigest(ref)));
    out.push({ Untagged: familiar(ref) });
    ctx.events.publish({ Type: 'image', Action: 'untag', Actor: { ID: rec.id, Attributes: { name: familiar(ref) } }, status: 'untag', id: rec.id });
    const repo = repoOf(ref);
    if (tags.includes(ref) && !ctx.store.tags(rec.id).some((t) => repoOf(t) === repo)) {
      for (const d of ctx.store.digests(rec.id)) {
        if (repoOf(d) !== repo) continue;
        ctx.deps.db.transaction(() => ctx.store.removeDigest(d));
        out.push({ Untagged: familiar(d) });
      }
    }
    if (ctx.store.tags(rec.id).length > 0 || ctx.store.digests(rec.id).length > 0) return out;
  } else {
    const repos = new Set(tags.map((t) => t.replace(/:[^/:]+$/, '')));
    if (repos.size > 1 && !opts.force) {
      throw conflict(`unable to delete ${rec.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
    }
    for (const t of tags) {
      ctx.deps.db.transaction(() => ctx.store.removeTag(t));
      out.push({ Untagged: familiar(t) });
      ctx.events.publish({ Type: 'image', Action: 'untag', Actor: { ID: rec.id, Attributes: { name: familiar(t) } }, status: 'untag', id: rec.id });
    }
    for (const d of digests) {
      ctx.deps.db.transaction(() => ctx.store.removeDigest(d));
      out.push({ Untagged: familiar(d) });
    }
  }
  // A forced removal of an image in use keeps it, untagged, for its containers.
  if (users.length) return out;
  out.push(...(await deleteRecord(ctx, rec.id)));
  return out;
}

async function deleteRecord(ctx: ImageContext, id: string): Promise<DeleteResponseItem[]> {
  const layers = ctx.store.layers(id);
  ctx.deps.db.transaction(() => ctx.store.delete(id));
  ctx.events.publish({ Type: 'image', Action: 'delete', Actor: { ID: id, Attributes: {} }, status: 'delete', id });
  const out: DeleteResponseItem[] = [{ Deleted: id }];
  const before = new Set<string>();
  for await (const s of ctx.snapshots.walk()) before.add(s.key);
  await collectGarbage(ctx);
  // Docker lists the layers it deleted, top first.
  for (const l of [...layers].reverse()) {
    if (before.has(l.chainId) && !(await ctx.unpacker.hasSnapshot(l.chainId))) out.push({ Deleted: l.chainId });
  }
  return out;
}

const PRUNE_FILTERS = new Set(['dangling', 'label', 'label!', 'until']);

export async function pruneImages(ctx: ImageContext, filters?: Filters): Promise<{ ImagesDeleted: DeleteResponseItem[]; SpaceReclaimed: number }> {
  const f = validateFilters(filters, PRUNE_FILTERS);
  const danglingOnly = f.dangling?.length ? !['false', '0'].includes(f.dangling[f.dangling.length - 1]!.toLowerCase()) : true;
  const until = f.until?.length ? parseTimeFilter(f.until[0]!) : undefined;
  const deleted: DeleteResponseItem[] = [];
  let reclaimed = 0;
  for (const rec of ctx.store.all()) {
    const tags = ctx.store.tags(rec.id);
    if (danglingOnly && tags.length > 0) continue;
    if (danglingOnly && ctx.isIntermediate(rec.id)) continue;
    if (ctx.inUse(rec.id).length) continue;
    const cfg = await imageConfig(ctx, rec.id);
    const labels = cfg.config?.Labels ?? {};
    if (f.label?.length && !f.label.every((l) => labelMatches(labels, l))) continue;
    if (f['label!']?.length && f['label!'].some((l) => labelMatches(labels, l))) continue;
    const created = rec.created ? Date.parse(rec.created) / 1000 : 0;
    if (until !== undefined && !(created < until)) continue;
    try {
      const items = await removeImage(ctx, rec.id, { force: true });
      deleted.push(...items);
      reclaimed += rec.size;
    } catch (e) {
      if (!is(e, 'not-found')) throw e;
    }
  }
  if (deleted.length) ctx.events.publish({ Type: 'image', Action: 'prune', Actor: { ID: '', Attributes: { reclaimed: String(reclaimed) } } });
  return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
}
