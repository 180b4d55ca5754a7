// joey build: the context directory as a tar to POST /build (the classic
// builder), the daemon's messages shown as `docker build` (without
// BuildKit) shows them. .dockerignore is applied by the daemon.
import { randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { StreamError } from './jsonmessage.ts';
import { showProgress } from './progress.ts';

export interface BuildCliOptions {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  label?: string[];
  target?: string;
  cache?: boolean; // --no-cache sets false
  quiet?: boolean;
  pull?: boolean;
  rm?: boolean;
  forceRm?: boolean;
  network?: string;
  platform?: string;
}

/** The context as a tar stream; `extra` adds files (a Dockerfile from outside the context). */
function packContext(dir: string, extra: Array<{ name: string; data: Buffer }>): Readable {
  const pack = tar.pack();
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(dir, path);
      const st = await lstat(full);
      const common = { name: path, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
      if (st.isDirectory()) {
        pack.entry({ ...common, type: 'directory' });
        await walk(path);
      } else if (st.isSymbolicLink()) {
        pack.entry({ ...common, type: 'symlink', linkname: await readlink(full) });
      } else if (st.isFile()) {
        await new Promise<void>((res, rej) => {
          readFile(full).then((data) => pack.entry({ ...common, type: 'file', size: data.length }, data, (err) => (err ? rej(err) : res())), rej);
        });
      }
    }
  };
  walk('')
    .then(() => {
      for (const e of extra) pack.entry({ name: e.name, mode: 0o644, type: 'file', size: e.data.length }, e.data);
      pack.finalize();
    })
    .catch((err: unknown) => pack.destroy(err as Error));
  // tar-stream's pack is a streamx stream: a Node Readable for the client.
  return Readable.from(pack as unknown as AsyncIterable<Buffer>);
}

export async function runBuild(cli: Cli, contextArg: string, opts: BuildCliOptions): Promise<void> {
  if (contextArg === '-' || /^[a-z]+:\/\//i.test(contextArg)) throw new StatusError('joey build: only a local context directory is supported');
  const dir = resolve(contextArg);
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new StatusError(`unable to prepare context: path "${contextArg}" not found`);
  let dockerfile = opts.file;
  const extra: Array<{ name: string; data: Buffer }> = [];
  if (dockerfile) {
    const abs = resolve(dockerfile);
    const rel = relative(dir, abs);
    if (rel.startsWith('..')) {
      // Outside the context: sent along under a name of its own, as docker does.
      dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
      extra.push({ name: dockerfile, data: await readFile(abs) });
    } else {
      dockerfile = rel;
    }
  }
  const buildArgs: Record<string, string> = {};
  for (const a of opts.buildArg ?? []) {
    const eq = a.indexOf('=');
    if (eq < 0) {
      const v = cli.io.env[a];
      if (v !== undefined) buildArgs[a] = v;
    } else buildArgs[a.slice(0, eq)] = a.slice(eq + 1);
  }
  const labels: Record<string, string> = {};
  for (const l of opts.label ?? []) {
    const eq = l.indexOf('=');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  const res = await cli.client.stream('POST', '/build', {
    query: {
      t: opts.tag?.length ? opts.tag : undefined,
      dockerfile,
      buildargs: Object.keys(buildArgs).length ? JSON.stringify(buildArgs) : undefined,
      labels: Object.keys(labels).length ? JSON.stringify(labels) : undefined,
      target: opts.target || undefined,
      nocache: opts.cache === false ? '1' : undefined,
      q: opts.quiet ? '1' : undefined,
      pull: opts.pull ? '1' : undefined,
      rm: opts.rm === false ? '0' : '1',
      forcerm: opts.forceRm ? '1' : undefined,
      networkmode: opts.network || undefined,
      platform: opts.platform || undefined,
    },
    headers: { 'Content-Type': 'application/x-tar' },
    body: packContext(dir, extra),
  });
  let id = '';
  try {
    await showProgress(cli, res, { quiet: opts.quiet, onAux: (aux) => (id = String((aux as { ID?: string }).ID ?? id)) });
  } catch (err) {
    // A RUN's exit code is the command's, as with docker build.
    if (err instanceof StreamError) throw new StatusError(err.message, err.code && err.code > 0 ? err.code : 1);
    throw err;
  }
  if (opts.quiet && id) cli.out(`${id}\n`);
}
