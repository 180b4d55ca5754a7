// json-file's max-size/max-file for logs that conmon writes. conmon (2.1)
// can only truncate, so joeyd rotates: once the live file reaches max-size,
// LOG.k becomes LOG.k+1 (the oldest beyond max-file goes), LOG becomes LOG.1,
// and conmon is told to reopen LOG. Lines written between the rename and the
// reopen land in LOG.1 (same inode), so nothing is lost. With max-file=1
// conmon's own --log-size-max truncates instead. With more files, nothing
// bounds the live file while joeyd is down; the first check after start-up
// rotates it.
import { rename, rm, stat } from 'node:fs/promises';
import { log } from '../../util/log.ts';
import type { ContainerContext } from './context.ts';
import { logPathOf, type ContainerRecord } from './record.ts';
import { conflict, invalid } from '../../errdefs/index.ts';
import { findContainer } from './lookup.ts';

export interface RotationPolicy {
  maxSize: number;
  maxFiles: number;
}

/** The container's policy, or undefined when its log grows without bound. */
export function rotationPolicy(c: ContainerRecord): RotationPolicy | undefined {
  const cfg = c.hostConfig.LogConfig?.Config ?? {};
  const maxSize = cfg['max-size'] === '-1' ? undefined : parseSize(cfg['max-size']);
  if (!maxSize) return undefined;
  return { maxSize, maxFiles: Math.max(1, Number(cfg['max-file'] ?? 1) || 1) };
}

/** LOG, LOG.1, … LOG.(n-1): the files a policy keeps, newest first. */
export function logFiles(logPath: string, maxFiles: number): string[] {
  return [logPath, ...Array.from({ length: maxFiles - 1 }, (_, i) => `${logPath}.${i + 1}`)];
}

/** Rotates the running container's log when it has reached max-size. */
export async function rotateIfFull(cx: ContainerContext, c: ContainerRecord): Promise<boolean> {
  const policy = rotationPolicy(c);
  if (!policy || policy.maxFiles === 1 || !c.state.Running) return false;
  const paths = cx.paths(c.id);
  const logPath = logPathOf(c, paths);
  let size: number;
  try {
    size = (await stat(logPath)).size;
  } catch {
    return false;
  }
  if (size < policy.maxSize) return false;
  const files = logFiles(logPath, policy.maxFiles);
  await rm(files[files.length - 1]!, { force: true });
  for (let k = files.length - 2; k >= 0; k--) {
    await rename(files[k]!, files[k + 1]!).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  await cx.runtimeOf(c).reopenLog({ bundle: paths.bundle, persistDir: paths.persistDir, exitDir: paths.exitDir, logPath });
  return true;
}

/** Checks every running container with a policy once per `intervalMs`. */
export function startLogRotation(cx: ContainerContext, intervalMs = 1000): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      for (const c of cx.store.all()) {
        if (!c.state.Running || !rotationPolicy(c)) continue;
        // No container lock: a stop may hold it for seconds. Racing a removal
        // only fails a rename; racing a restart reopens a fresh log.
        await rotateIfFull(cx, c).catch((e) => log.warn('log rotation failed', { container: c.id, err: e }));
      }
    })().finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Docker's sizes for max-size: 10, 10k, 1.5m, 2g (and a trailing b). */
export function parseSize(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(s.trim());
  if (!m) throw invalid(`invalid size: '${s}'`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * mult);
}

/** Tells conmon to reopen the log file (the CRI's ReopenContainerLog: a
 * log rotator, such as kubelet, has renamed it). */
export async function reopenContainerLog(cx: ContainerContext, idOrName: string): Promise<void> {
  const c = findContainer(cx, idOrName);
  if (!c.state.Running) throw conflict(`container ${c.id} is not running`);
  const paths = cx.paths(c.id);
  await cx.runtimeOf(c).reopenLog({ bundle: paths.bundle, persistDir: paths.persistDir, exitDir: paths.exitDir, logPath: logPathOf(c, paths) });
}
