// `docker builder prune` (POST /build/prune) for the classic builder. In
// dockerd 20.10 the endpoint prunes BuildKit's cache only: the classic
// builder's cache is its step images (here: those plus the build_cache rows
// that point at them), which neither `system df`'s BuildCache nor a builder
// prune sees — checked side by side, the answer after classic builds is
// {"CachesDeleted":null,"SpaceReclaimed":0} and every image stays. joey
// answers the same, after dockerd's checks of the options; the step images
// go with `docker image prune -a` / `docker rmi`, taking their rows along.
import { invalid } from '../../errdefs/index.ts';
import type { Filters } from '../../images/types.ts';
import { parseGoDuration } from './builder.ts';

export interface BuildCachePruneOptions {
  /** Every cache entry, not only the unused ones. */
  all?: boolean;
  /** until / unused-for (a duration), id, parent, type, description, inuse, shared, private, label, label!. */
  filters?: Filters;
  /** Bytes to keep (keep-storage; reserved-space, max-used-space, min-free-space from API 1.48). */
  keepStorage?: number;
}

export interface BuildCachePruneReport {
  /** Ids of the cache entries removed; null when none (dockerd's nil slice). */
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}

/** The filter keys dockerd's builder prune accepts. */
const FILTER_KEYS = new Set(['until', 'unused-for', 'id', 'parent', 'type', 'description', 'inuse', 'shared', 'private', 'label', 'label!']);

/** dockerd's checks of the filters, with its messages. Returns the age (ns)
 * below which entries are kept, if one was given. */
export function checkPruneFilters(filters: Filters | undefined): { untilNs?: number } {
  const f = filters ?? {};
  for (const k of Object.keys(f)) if (!FILTER_KEYS.has(k)) throw invalid(`failed to prune build cache: Invalid filter '${k}'`);
  const until = f.until ?? [];
  const unusedFor = f['unused-for'] ?? [];
  if (until.length && unusedFor.length) throw invalid('failed to prune build cache: filters expect only one value');
  const values = [...until, ...unusedFor];
  for (const k of FILTER_KEYS) if (k !== 'label' && k !== 'label!' && (f[k]?.length ?? 0) > 1) throw invalid('failed to prune build cache: filters expect only one value');
  if (values.length === 0) return {};
  const key = unusedFor.length ? 'unused-for' : 'until';
  const ns = parseGoDuration(values[0]!);
  if (ns === undefined) throw invalid(`failed to prune build cache: "${key}" filter expects a duration (e.g., '24h'): time: invalid duration "${values[0]}"`);
  return { untilNs: ns };
}

export async function pruneBuildCache(opts: BuildCachePruneOptions = {}): Promise<BuildCachePruneReport> {
  checkPruneFilters(opts.filters);
  if (opts.keepStorage !== undefined && (!Number.isSafeInteger(opts.keepStorage) || opts.keepStorage < 0)) throw invalid(`keep-storage must be a non-negative number of bytes`);
  return { CachesDeleted: null, SpaceReclaimed: 0 };
}
