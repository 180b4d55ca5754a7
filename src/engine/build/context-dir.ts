// The build context: the request's tar (plain or gzip) extracted under the
// daemon's data root with the same protections as docker cp (no path
// escapes, links kept inside, no device nodes), then .dockerignore applied.
// The unpacking runs in an archive worker with synchronous calls, as a
// layer's does (archive/apply.ts, unpackPlainTree): the directory is new and
// only the worker writes to it, so it needs no lookups through ScopedRoot,
// and it hashes every file on the way for COPY's checksum.
// dockerd removes the directory when the build ends; so do we.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { unpackPlainTree } from '../../archive/apply.ts';
import type { FileDigests } from '../../archive/writer.ts';
import { ScopedRoot, type DirRef } from '../../archive/scoped-root.ts';
import { wrap } from '../../errdefs/index.ts';
import { hasExceptionsBelow, isIgnored, parseDockerignore, type IgnorePattern } from './dockerignore.ts';

export interface BuildContext {
  readonly dir: string;
  readonly root: ScopedRoot;
  /** sha256 and size of the context's regular files as unpacked, by path
   * ("tree/a.txt"); nothing writes to the context after that. */
  readonly digests: FileDigests;
  close(): Promise<void>;
}

export async function receiveContext(parent: string, input: Readable, keep: string[]): Promise<BuildContext> {
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const dir = join(parent, randomBytes(8).toString('hex'));
  // 0755 (the parent is private): COPY . copies the root's mode.
  await mkdir(dir, { mode: 0o755 });
  let root: ScopedRoot | undefined;
  let digests: FileDigests;
  try {
    digests = await unpackPlainTree(input, dir).catch((err: unknown) => {
      throw wrap(err, 'the build context');
    });
    root = await ScopedRoot.open(dir);
    const ignore = await root.readFile('/.dockerignore', 1 << 20);
    if (ignore) {
      const patterns = parseDockerignore(ignore.toString('utf8'));
      if (patterns.length) await prune(root, root.root, '', patterns, new Set(keep.map((k) => k.replace(/^\/+/, ''))));
    }
  } catch (err) {
    await root?.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const r = root;
  return {
    dir,
    root: r,
    digests,
    async close() {
      await r.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Removes what .dockerignore excludes (the Dockerfile and .dockerignore
 * stay: the builder reads them, as dockerd does). */
async function prune(root: ScopedRoot, dir: DirRef, rel: string, patterns: IgnorePattern[], keep: Set<string>): Promise<void> {
  for (const name of await root.readdir(dir)) {
    const path = rel ? `${rel}/${name}` : name;
    if (keep.has(path) || path === '.dockerignore') continue;
    const st = await root.lstat(dir, name);
    if (!st) continue;
    const ignored = isIgnored(patterns, path);
    if (st.isDirectory()) {
      if (ignored && !hasExceptionsBelow(patterns, path)) {
        await root.removeAll(dir, name);
        continue;
      }
      const sub = await root.openDir(dir, name);
      try {
        await prune(root, sub, path, patterns, keep);
      } finally {
        await sub.fh.close();
      }
      if (ignored) {
        // An excluded directory that kept nothing goes too.
        const d = await root.openDir(dir, name);
        const left = await root.readdir(d).finally(() => d.fh.close());
        if (left.length === 0) await root.removeAll(dir, name);
      }
    } else if (ignored) {
      await root.removeAll(dir, name);
    }
  }
}
