// joey export: the container's filesystem as a tar, to -o or a redirected stdout.
import type { Cli } from './context.ts';
import { containerPath } from './container-each.ts';
import { writeTarOutput } from './tar-output.ts';

export async function runExport(cli: Cli, name: string, opts: { output?: string }): Promise<void> {
  await writeTarOutput(cli, opts.output, 'failed to export container', () => cli.client.stream('GET', containerPath(name, '/export')));
}
