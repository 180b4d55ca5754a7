// joey save: the daemon's tar of the images, to -o or a redirected stdout.
import type { Cli } from './context.ts';
import { writeTarOutput } from './tar-output.ts';

export async function runSave(cli: Cli, images: string[], opts: { output?: string }): Promise<void> {
  await writeTarOutput(cli, opts.output, 'failed to save image', () => cli.client.stream('GET', '/images/get', { query: { names: images } }));
}
