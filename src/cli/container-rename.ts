// joey rename: the daemon's error first, then docker's summary line.
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { containerPath } from './container-each.ts';

export async function runRename(cli: Cli, oldName: string, newName: string): Promise<void> {
  const from = oldName.trim();
  const to = newName.trim();
  if (from === '' || to === '') throw new StatusError('Error: Neither old nor new names may be empty');
  try {
    await cli.client.post(containerPath(from, '/rename'), { query: { name: to } });
  } catch (err) {
    cli.err(displayError(err) + '\n');
    throw new StatusError(`Error: failed to rename container named ${from}`);
  }
}
