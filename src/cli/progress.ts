// Shows a daemon's JSON progress stream on stdout (or nowhere, for -q).
import type { Cli } from './context.ts';
import { displayJsonMessages } from './jsonmessage.ts';
import type { JsonMessage } from './jsonmessage.ts';

export async function showProgress(
  cli: Cli,
  body: AsyncIterable<Buffer | string>,
  opts: { quiet?: boolean; onAux?: (aux: unknown, msg: JsonMessage) => void } = {},
): Promise<void> {
  const write = opts.quiet ? () => {} : (s: string) => cli.out(s);
  await displayJsonMessages(body, write, {
    isTerminal: !opts.quiet && cli.stdoutIsTerminal,
    width: cli.io.stdout.columns,
    onAux: opts.onAux,
  });
}
