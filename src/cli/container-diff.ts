// joey diff: what changed in the container's filesystem: "C /etc", "A /x", "D /y".
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { containerPath } from './container-each.ts';

const KINDS = ['C', 'A', 'D'];

export async function runDiff(cli: Cli, name: string): Promise<void> {
  if (name === '') throw new StatusError('Container name cannot be empty');
  const changes = await cli.client.get<Array<{ Path: string; Kind: number }> | null>(containerPath(name, '/changes'));
  let out = '';
  for (const c of changes ?? []) out += `${KINDS[c.Kind] ?? ''} ${c.Path}\n`;
  cli.out(out);
}
