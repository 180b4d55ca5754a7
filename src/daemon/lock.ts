// One daemon per data root.
//
// Node has no flock(2), so the lock is a listening socket in the Linux
// abstract namespace, named by a random token kept in <data-root>/joeyd.lock:
// - bind(2) is atomic, so two daemons starting at once cannot both win;
// - the kernel frees the name when the process dies however it dies (kill -9
//   included), so there is never a stale lock to judge or clean up, unlike a
//   pid file whose pid may have been reused;
// - the token file is readable by root only, so another user cannot squat
//   the name to stop joeyd from starting.
// The file also records the holder's pid, for the error message. Abstract
// names are per network namespace: two daemons in different namespaces on
// one data root are not caught (nobody should do that anyway).
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { conflict, messageOf, unavailable } from '../errdefs/index.ts';

export interface DataRootLock {
  readonly path: string;
  release(): Promise<void>;
}

export async function lockDataRoot(dataRoot: string): Promise<DataRootLock> {
  const path = join(dataRoot, 'joeyd.lock');
  const token = ensureToken(path);
  const server = createServer((sock) => sock.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(`\0joeyd-lock-${token}`, () => resolve());
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const pid = readLock(path).pid;
      throw conflict(`data root ${dataRoot} is in use by another joeyd${pid ? ` (pid ${pid})` : ''}`);
    }
    throw unavailable(`cannot lock data root ${dataRoot}: ${messageOf(err)}`, err);
  }
  // The lock must not keep the process alive on its own.
  server.unref();
  writeAtomic(path, `${token}\n${process.pid}\n`);
  return {
    path,
    release: () => release(server, path, token),
  };
}

async function release(server: Server, path: string, token: string): Promise<void> {
  // Keep the token (the next daemon reuses it); drop our pid.
  try {
    writeAtomic(path, `${token}\n`);
  } catch {
    // the data root may be gone
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function ensureToken(path: string): string {
  const existing = readLock(path).token;
  if (existing) return existing;
  // Create the file whole under a temporary name and link it in: link(2)
  // fails if another daemon got there first, and then we use its token.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  const token = readLock(path).token;
  if (!token) throw unavailable(`${path} is corrupt: remove it and start again`);
  return token;
}

function readLock(path: string): { token?: string; pid?: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  const [token, pid] = text.split('\n');
  return {
    ...(token && /^[0-9a-f]{32}$/.test(token) ? { token } : {}),
    ...(pid && /^\d+$/.test(pid) ? { pid: Number(pid) } : {}),
  };
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}
