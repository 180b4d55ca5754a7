// joey top: the container's processes as the daemon's ps shows them.
import type { Cli } from './context.ts';
import { containerPath } from './container-each.ts';
import { tabwrite } from './tabwriter.ts';

export async function runTop(cli: Cli, name: string, psArgs: string[]): Promise<void> {
  const top = await cli.client.get<{ Titles?: string[] | null; Processes?: string[][] | null }>(containerPath(name, '/top'), {
    query: { ps_args: psArgs.length > 0 ? psArgs.join(' ') : undefined },
  });
  let text = (top?.Titles ?? []).join('\t') + '\n';
  for (const p of top?.Processes ?? []) text += p.join('\t') + '\n';
  cli.out(tabwrite(text, 20, 3));
}
