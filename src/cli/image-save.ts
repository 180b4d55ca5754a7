// joey save: the daemon's tar to a file (-o, written atomically) or to a
// redirected stdout -- never to a terminal.
import { createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';

export async function runSave(cli: Cli, images: string[], opts: { output?: string }): Promise<void> {
  if (!opts.output) {
    if (cli.stdoutIsTerminal) throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const res = await cli.client.stream('GET', '/images/get', { query: { names: images } });
    await cli.pipeToStdout(res);
    return;
  }
  const file = path.resolve(opts.output);
  const dir = path.dirname(file);
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) throw new StatusError(`failed to save image: invalid output path: ${dir} is not a directory`);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw new StatusError(`failed to save image: invalid output path: stat ${dir}: no such file or directory`);
  }
  const res = await cli.client.stream('GET', '/images/get', { query: { names: images } });
  // a partial tar never replaces the file: write beside it, rename when done
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const out = createWriteStream(tmp, { mode: 0o600 });
  try {
    for await (const chunk of res) {
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    await fs.rename(tmp, file);
  } catch (err) {
    out.destroy();
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
