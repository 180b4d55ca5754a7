// Where `save` and `export` write their tar: a file given with -o (written
// beside it and renamed, so a partial tar never replaces it) or a redirected
// stdout -- never a terminal.
import { createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';

/** `failure` prefixes docker's messages: "failed to save image", "failed to export container". */
export async function writeTarOutput(cli: Cli, output: string | undefined, failure: string, open: () => Promise<Readable>): Promise<void> {
  if (!output) {
    if (cli.stdoutIsTerminal) throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    await cli.pipeToStdout(await open());
    return;
  }
  const file = path.resolve(cli.cwd, output);
  const dir = path.dirname(file);
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) throw new StatusError(`${failure}: invalid output path: ${dir} is not a directory`);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw new StatusError(`${failure}: invalid output path: stat ${dir}: no such file or directory`);
  }
  const res = await open();
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const out = createWriteStream(tmp, { mode: 0o600 });
  try {
    for await (const chunk of res) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    await fs.rename(tmp, file);
  } catch (err) {
    out.destroy();
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
