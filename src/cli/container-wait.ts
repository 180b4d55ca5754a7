// joey wait: blocks until each container stops, printing its exit code.
import type { Cli } from './context.ts';
import { containerPath, forEachContainer } from './container-each.ts';

export async function runWait(cli: Cli, names: string[]): Promise<void> {
  await forEachContainer(cli, names, (name) => cli.client.post<{ StatusCode?: number }>(containerPath(name, '/wait')), {
    sequential: true,
    print: (_name, result) => String((result as { StatusCode?: number } | undefined)?.StatusCode ?? 0),
  });
}
