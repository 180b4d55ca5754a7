// joey image prune: asks first (unless -f), then lists what went and the space won.
import type { DeleteResponseItem, Filters } from '../images/types.ts';
import type { Cli } from './context.ts';
import { CancelledError } from './errors.ts';
import { addFilter, toFilters } from './filters.ts';
import { confirm } from './prompt.ts';
import { humanSize } from './units.ts';

export interface PruneOptions {
  all?: boolean;
  filter?: string[];
  force?: boolean;
}

const DANGLING_WARNING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';
const ALL_WARNING = 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?';

export function pruneReport(report: { ImagesDeleted?: DeleteResponseItem[] | null; SpaceReclaimed?: number }): string {
  let out = '';
  const deleted = report.ImagesDeleted ?? [];
  let space = 0;
  if (deleted.length > 0) {
    out += 'Deleted Images:\n';
    for (const d of deleted) {
      if ('Untagged' in d && d.Untagged) out += `untagged: ${d.Untagged}\n`;
      else if ('Deleted' in d) out += `deleted: ${d.Deleted}\n`;
    }
    out += '\n';
    space = report.SpaceReclaimed ?? 0;
  }
  return out + `Total reclaimed space: ${humanSize(space)}\n`;
}

export async function runPrune(cli: Cli, opts: PruneOptions): Promise<void> {
  const filters: Filters = toFilters(opts.filter);
  addFilter(filters, 'dangling', String(!opts.all));
  if (!opts.force) {
    const ok = await confirm(cli.io.stdin, cli.io.stdout, opts.all ? ALL_WARNING : DANGLING_WARNING);
    if (!ok) throw new CancelledError('image prune has been cancelled');
  }
  const report = await cli.client.post<{ ImagesDeleted?: DeleteResponseItem[] | null; SpaceReclaimed?: number }>('/images/prune', {
    query: { filters },
  });
  cli.out(pruneReport(report ?? {}));
}
