// joey container prune: removes stopped containers after asking (unless -f).
import type { Cli } from './context.ts';
import { CancelledError } from './errors.ts';
import { filtersParam, toFilters } from './filters.ts';
import { confirm } from './prompt.ts';
import { humanSize } from './units.ts';

const WARNING = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?';

export async function runContainerPrune(cli: Cli, opts: { force?: boolean; filter?: string[] }): Promise<void> {
  const filters = toFilters(opts.filter);
  if (!opts.force) {
    const ok = await confirm(cli.io.stdin, cli.io.stdout, WARNING);
    if (!ok) throw new CancelledError('container prune has been cancelled');
  }
  const report = await cli.client.post<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('/containers/prune', {
    query: { filters: filtersParam(filters) },
  });
  const deleted = report?.ContainersDeleted ?? [];
  let out = '';
  let space = 0;
  if (deleted.length > 0) {
    out += 'Deleted Containers:\n' + deleted.map((id) => id + '\n').join('') + '\n';
    space = report?.SpaceReclaimed ?? 0;
  }
  cli.out(out + `Total reclaimed space: ${humanSize(space)}\n`);
}
