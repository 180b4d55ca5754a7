// joey system df: docker's summary table (one row per kind: images,
// containers, local volumes, build cache) and, with -v, one table per kind.
import type { ContainerSummary } from '../engine/containers/types.ts';
import type { DiskUsage } from '../engine/types.ts';
import type { Volume } from '../engine/volumes/types.ts';
import type { ImageSummary } from '../images/types.ts';
import { familiarName, parseReference } from '../reference/index.ts';
import { CONTAINER_HEADERS, containerContext, containerFormat } from './container-list.ts';
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { goJson, goStruct } from './format.ts';
import { TABLE, parseFormat, renderRows } from './formatter.ts';
import { IMAGE_HEADERS, imageContext } from './image-list.ts';
import { humanSize } from './units.ts';
import { VOLUME_HEADERS, volumeContext } from './volume.ts';

const SUMMARY_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const SUMMARY_RAW = 'type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n';
const SUMMARY_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

const IMAGES_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const CONTAINERS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const VOLUMES_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const BUILD_CACHE_TABLE = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';
const BUILD_CACHE_HEADERS = {
  ID: 'CACHE ID', Parent: 'PARENT', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED',
  UsageCount: 'USAGE', InUse: 'IN USE', Shared: 'SHARED', Description: 'DESCRIPTION',
};

/** The verbose raw format: each kind's raw format, each row tagged with its kind. */
const VERBOSE_RAW =
  '{{range .Images}}type: Image\n' +
  'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n' +
  '\n{{end -}}\n{{range .Containers}}type: Container\n' +
  containerFormat('raw', false, true) +
  '\n{{end -}}\n{{range .Volumes}}type: Volume\n' +
  'name: {{.Name}}\\ndriver: {{.Driver}}\\n' +
  '\n{{end -}}\n{{range .BuildCache}}type: Build Cache\n' +
  'build_cache_id: {{.ID}}\nparent_id: {{.Parent}}\nbuild_cache_type: {{.CacheType}}\ndescription: {{.Description}}\ncreated_at: {{.CreatedAt}}\n' +
  'created_since: {{.CreatedSince}}\nlast_used_at: {{.LastUsedAt}}\nlast_used_since: {{.LastUsedSince}}\nusage_count: {{.UsageCount}}\nin_use: {{.InUse}}\nshared: {{.Shared}}\n' +
  '\n{{end -}}';

/** A build cache record as the API gives it; joeyd never has any. */
interface BuildCacheRecord {
  ID?: string;
  Size?: number;
  InUse?: boolean;
  Shared?: boolean;
}

export interface DiskUsageOptions {
  verbose?: boolean;
  format?: string;
}

/** "1.2MB (40%)": the share of the total, truncated as Go's integer division. */
function reclaimable(bytes: number, total: number): string {
  return total > 0 ? `${humanSize(bytes)} (${Math.trunc((bytes * 100) / total)}%)` : humanSize(bytes);
}

const ACTIVE_STATES = new Set(['running', 'paused', 'restarting']);

/** One summary row: docker's diskUsage*Context, whose JSON is its five methods, sorted. */
function summaryRow(typeName: string, fields: { Type: string; TotalCount: string; Active: string; Size: string; Reclaimable: string }) {
  return goStruct(typeName, fields, () => goJson(Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1))), true));
}

export function summaryRows(du: DiskUsage) {
  const images = du.Images ?? [];
  let used = 0;
  for (const i of images) if (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1) used += i.Size - i.SharedSize;
  const containers = du.Containers ?? [];
  const rw = (cs: ContainerSummary[]) => cs.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const idle = containers.filter((c) => !ACTIVE_STATES.has(c.State));
  const volumes = du.Volumes ?? [];
  const sized = volumes.filter((v) => (v.UsageData?.Size ?? -1) !== -1);
  const volSize = (vs: Volume[]) => vs.reduce((n, v) => n + v.UsageData!.Size, 0);
  const cache = (du.BuildCache ?? []) as BuildCacheRecord[];
  const cacheSize = cache.filter((b) => !b.Shared).reduce((n, b) => n + (b.Size ?? 0), 0);
  const cacheInUse = cache.filter((b) => b.InUse && !b.Shared).reduce((n, b) => n + (b.Size ?? 0), 0);
  return [
    summaryRow('*formatter.diskUsageImagesContext', {
      Type: 'Images',
      TotalCount: String(images.length),
      Active: String(images.filter((i) => i.Containers > 0).length),
      Size: humanSize(du.LayersSize),
      Reclaimable: reclaimable(du.LayersSize - used, du.LayersSize),
    }),
    summaryRow('*formatter.diskUsageContainersContext', {
      Type: 'Containers',
      TotalCount: String(containers.length),
      Active: String(containers.length - idle.length),
      Size: humanSize(rw(containers)),
      Reclaimable: reclaimable(rw(idle), rw(containers)),
    }),
    summaryRow('*formatter.diskUsageVolumesContext', {
      Type: 'Local Volumes',
      TotalCount: String(volumes.length),
      Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length),
      Size: humanSize(volSize(sized)),
      Reclaimable: reclaimable(volSize(sized.filter((v) => v.UsageData!.RefCount === 0)), volSize(sized)),
    }),
    summaryRow('*formatter.diskUsageBuilderContext', {
      Type: 'Build Cache',
      TotalCount: String(cache.length),
      Active: String(cache.filter((b) => b.InUse).length),
      Size: humanSize(cacheSize),
      Reclaimable: humanSize(cacheSize - cacheInUse),
    }),
  ];
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/** The rows of -v: an image under its first tag only; containers without their virtual size. */
function verboseRows(du: DiskUsage, trunc: boolean, now: number) {
  const images = [];
  for (const img of du.Images ?? []) {
    let repo = '<none>';
    let tag = '<none>';
    if ((img.RepoTags ?? []).length > 0 && !isDangling(img)) {
      let ref;
      try {
        ref = parseReference(img.RepoTags[0]!);
      } catch {
        continue; // docker leaves out an image whose first tag does not parse
      }
      if (ref.tag !== undefined) {
        repo = familiarName(ref);
        tag = ref.tag;
      }
    }
    images.push(imageContext(img, repo, tag, '', trunc, now));
  }
  return {
    Images: images,
    Containers: (du.Containers ?? []).map((c) => containerContext({ ...c, SizeRootFs: 0 }, trunc, now)),
    Volumes: (du.Volumes ?? []).map((v) => volumeContext(v)),
    // joeyd has no builder; another daemon's records are not shown in detail
    BuildCache: [] as unknown[],
  };
}

function renderVerboseTable(du: DiskUsage, rows: ReturnType<typeof verboseRows>): string {
  const cache = (du.BuildCache ?? []) as BuildCacheRecord[];
  const cacheSize = cache.filter((b) => !b.Shared).reduce((n, b) => n + (b.Size ?? 0), 0);
  return (
    'Images space usage:\n\n' +
    renderRows(IMAGES_TABLE, rows.Images, IMAGE_HEADERS) +
    '\nContainers space usage:\n\n' +
    renderRows(CONTAINERS_TABLE, rows.Containers, CONTAINER_HEADERS) +
    '\nLocal Volumes space usage:\n\n' +
    renderRows(VOLUMES_TABLE, rows.Volumes, VOLUME_HEADERS) +
    `\nBuild cache usage: ${humanSize(cacheSize)}\n\n` +
    renderRows(BUILD_CACHE_TABLE, rows.BuildCache, BUILD_CACHE_HEADERS)
  );
}

/** The output, and the error that cut it short (a custom -v format fails
 * mid-way after printing what it had, as docker's does). */
export function renderDiskUsage(du: DiskUsage, opts: DiskUsageOptions, now = Date.now()): { out: string; error?: string } {
  const source = opts.format || TABLE;
  if (!opts.verbose) {
    const format = source === TABLE ? SUMMARY_TABLE : source === 'raw' ? SUMMARY_RAW : source;
    return { out: renderRows(format, summaryRows(du), SUMMARY_HEADERS) };
  }
  const format = source === 'raw' ? VERBOSE_RAW : source;
  const rows = verboseRows(du, format.startsWith(TABLE), now);
  if (format === TABLE) return { out: renderVerboseTable(du, rows) };
  // Any other format runs once over the four lists, with nothing added.
  const { out, error } = parseFormat(format).tryExecute(goStruct('*formatter.diskUsageContext', rows));
  return { out, error: error?.message };
}

export async function runSystemDf(cli: Cli, opts: DiskUsageOptions): Promise<void> {
  const du = await cli.client.get<DiskUsage>('/system/df');
  const { out, error } = renderDiskUsage(du, opts);
  cli.out(out);
  if (error) throw new StatusError(error);
}
