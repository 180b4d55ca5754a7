// joey builder prune: asks first (unless -f), then lists the cache entries
// that went and the space won, as `docker builder prune` prints them.
import type { Cli } from './context.ts';
import { CancelledError } from './errors.ts';
import { filtersParam, toFilters } from './filters.ts';
import { ramInBytes } from './go-values.ts';
import { confirm } from './prompt.ts';
import { humanSize } from './units.ts';

export interface BuilderPruneOptions {
  all?: boolean;
  filter?: string[];
  force?: boolean;
  keepStorage?: string;
}

const DANGLING_WARNING = 'WARNING! This will remove all dangling build cache. Are you sure you want to continue?';
const ALL_WARNING = 'WARNING! This will remove all build cache. Are you sure you want to continue?';

export function builderPruneReport(report: { CachesDeleted?: string[] | null; SpaceReclaimed?: number }): string {
  const deleted = report.CachesDeleted ?? [];
  const list = deleted.length ? `Deleted build cache objects:\n${deleted.map((id) => `${id}\n`).join('')}` : '';
  return `${list}Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`;
}

export async function runBuilderPrune(cli: Cli, opts: BuilderPruneOptions): Promise<void> {
  const filters = toFilters(opts.filter);
  const keep = opts.keepStorage ? ramInBytes(opts.keepStorage) : 0;
  if (!opts.force) {
    const ok = await confirm(cli.io.stdin, cli.io.stdout, opts.all ? ALL_WARNING : DANGLING_WARNING);
    if (!ok) throw new CancelledError('builder prune has been cancelled');
  }
  const report = await cli.client.post<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }>('/build/prune', {
    query: { all: opts.all ? '1' : undefined, filters: filtersParam(filters), 'keep-storage': keep > 0 ? String(keep) : undefined },
  });
  cli.out(builderPruneReport(report ?? {}));
}
