// joey image inspect: images only, through the shared inspect printer.
import { escapePath } from '../client/client.ts';
import type { Cli } from './context.ts';
import { fetchText, inspectObjects } from './inspect.ts';

export async function runInspect(cli: Cli, names: string[], opts: { format?: string }): Promise<void> {
  await inspectObjects(cli, names, opts.format, (name) => fetchText(cli, `/images/${escapePath(name)}/json`));
}
