// joey images / joey image ls: docker's table, one row per repository tag.
import type { ImageSummary } from '../images/types.ts';
import type { Cli } from './context.ts';
import { goJson, goStruct } from './format.ts';
import { TABLE, isTable, renderRows } from './formatter.ts';
import { addFilter, filtersParam, toFilters } from './filters.ts';
import { createdSince, goTimeString, humanSize, humanSizeWithPrecision, truncateId } from './units.ts';
import { familiarName, parseReference } from '../reference/index.ts';

export interface ImagesOptions {
  all?: boolean;
  quiet?: boolean;
  digests?: boolean;
  noTrunc?: boolean;
  filter?: string[];
  format?: string;
  /** The name the command was run as ("images" or "ls"). */
  calledAs?: string;
}

const IMAGE_SUBCOMMANDS = new Set(['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag']);

const DEFAULT_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const DEFAULT_TABLE_DIGEST =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

/** docker's NewImageFormat: the template for the given flags. */
export function imagesFormat(format: string, quiet: boolean, digests: boolean): string {
  if (format === TABLE) {
    if (quiet) return '{{.ID}}';
    return digests ? DEFAULT_TABLE_DIGEST : DEFAULT_TABLE;
  }
  if (isTable(format) && digests && !format.includes('{{.Digest}}')) return format + '\t{{.Digest}}';
  return format;
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/** The template fields of one row, as docker's imageContext has them. */
export function imageContext(img: ImageSummary, repo: string, tag: string, digest: string, trunc: boolean, now = Date.now()) {
  const fields = {
    Containers: img.Containers === -1 || img.Containers === undefined ? 'N/A' : String(img.Containers),
    CreatedAt: goTimeString(img.Created),
    CreatedSince: createdSince(img.Created, now),
    Digest: digest,
    ID: trunc ? truncateId(img.Id) : img.Id,
    Repository: repo,
    SharedSize: img.SharedSize === -1 || img.SharedSize === undefined ? 'N/A' : humanSize(img.SharedSize),
    Size: humanSizeWithPrecision(img.Size, 3),
    Tag: tag,
    UniqueSize: img.Size === -1 || img.SharedSize === -1 || img.SharedSize === undefined ? 'N/A' : humanSize(img.Size - img.SharedSize),
    VirtualSize: humanSize(img.Size),
  };
  // docker marshals the context through json.Marshal: sorted keys, HTML escaped
  return goStruct('*formatter.imageContext', fields, () => goJson({ ...fields }, true));
}

/** One row per repository tag (and per digest with --digests), as docker. */
export function imageRows(images: ImageSummary[], opts: { trunc: boolean; digests: boolean; format: string }, now = Date.now()) {
  const needDigest = opts.digests || opts.format.includes('{{.Digest}}');
  const rows: ReturnType<typeof imageContext>[] = [];
  for (const img of images) {
    if (isDangling(img)) {
      rows.push(imageContext(img, '<none>', '<none>', '<none>', opts.trunc, now));
      continue;
    }
    // grouped by familiar repository name, in the order the daemon gave them
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const s of img.RepoTags ?? []) {
      try {
        const r = parseReference(s);
        if (r.tag === undefined) continue;
        const name = familiarName(r);
        repoTags.set(name, [...(repoTags.get(name) ?? []), r.tag]);
      } catch {
        // "<none>:<none>" and the like are skipped, as docker skips them
      }
    }
    for (const s of img.RepoDigests ?? []) {
      try {
        const r = parseReference(s);
        if (r.digest === undefined) continue;
        const name = familiarName(r);
        repoDigests.set(name, [...(repoDigests.get(name) ?? []), r.digest]);
      } catch {
        // skipped
      }
    }
    for (const [repo, tags] of repoTags) {
      const digests = needDigest ? (repoDigests.get(repo) ?? []) : [];
      repoDigests.delete(repo);
      for (const tag of tags) {
        if (digests.length === 0) rows.push(imageContext(img, repo, tag, '<none>', opts.trunc, now));
        else for (const d of digests) rows.push(imageContext(img, repo, tag, d, opts.trunc, now));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.digests) for (const d of digests) rows.push(imageContext(img, repo, '<none>', d, opts.trunc, now));
      else rows.push(imageContext(img, repo, '<none>', '', opts.trunc, now));
    }
  }
  return rows;
}

export function renderImages(images: ImageSummary[], opts: ImagesOptions, now = Date.now()): string {
  const format = imagesFormat(opts.format || TABLE, !!opts.quiet, !!opts.digests);
  const rows = imageRows(images, { trunc: !opts.noTrunc, digests: !!opts.digests, format }, now);
  return renderRows(format, rows, IMAGE_HEADERS);
}

export async function runImages(cli: Cli, args: string[], opts: ImagesOptions): Promise<void> {
  const filters = toFilters(opts.filter);
  if (args[0]) addFilter(filters, 'reference', args[0]);
  const images = await cli.client.get<ImageSummary[]>('/images/json', {
    query: { all: opts.all || undefined, filters: filtersParam(filters) },
  });
  cli.out(renderImages(images ?? [], opts));
  // `joey images ls` lists images named "ls": say what was probably meant
  if (args[0] && (images ?? []).length === 0 && opts.calledAs === 'images' && IMAGE_SUBCOMMANDS.has(args[0])) {
    cli.err(`\nNo images found matching ${JSON.stringify(args[0])}: did you mean "joey image ${args[0]}"?\n`);
  }
}
