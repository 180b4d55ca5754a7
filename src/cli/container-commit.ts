// joey commit: a new image from the container's changes.
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { parseRef } from './image-pull.ts';
import { fullName, withDefaultTag } from '../reference/index.ts';

export interface CommitOptions {
  author?: string;
  change?: string[];
  message?: string;
  pause?: boolean;
}

export async function runCommit(cli: Cli, container: string, reference: string | undefined, opts: CommitOptions): Promise<void> {
  let repo = '';
  let tag = '';
  if (reference) {
    const ref = parseRef(reference);
    if (ref.digest !== undefined) throw new StatusError('refusing to create a tag with a digest reference');
    repo = fullName(ref);
    tag = withDefaultTag(ref).tag ?? '';
  }
  const res = await cli.client.post<{ Id: string }>('/commit', {
    query: {
      container: container.trim(),
      repo,
      tag,
      comment: opts.message ?? '',
      author: opts.author ?? '',
      changes: opts.change && opts.change.length > 0 ? opts.change : undefined,
      pause: opts.pause === false ? '0' : undefined,
    },
  });
  cli.out(res.Id + '\n');
}
