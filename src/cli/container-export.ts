// joey export: the container's filesystem as a tar, to -o (written atomically)
// or to a redirected stdout.
import { createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { containerPath } from './container-each.ts';

export async function runExport(cli: Cli, name: string, opts: { output?: string }): Promise<void> {
  if (!opts.output) {
    if (cli.stdoutIsTerminal) throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    await cli.pipeToStdout(await cli.client.stream('GET', containerPath(name, '/export')));
    return;
  }
  const file = path.resolve(cli.cwd, opts.output);
  const dir = path.dirname(file);
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) throw new StatusError(`failed to export container: invalid output path: ${dir} is not a directory`);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw new StatusError(`failed to export container: invalid output path: stat ${dir}: no such file or directory`);
  }
  const res = await cli.client.stream('GET', containerPath(name, '/export'));
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
