// Filesystem helpers: find and undo mounts under a directory, remove a tree
// that a container engine left behind, measure a tree's size.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { run } from './proc.ts';

/** Decodes the octal escapes (\040 for a space, …) of /proc/mounts fields. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points at or under dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  const base = dir.replace(/\/+$/, '');
  const text = readFileSync('/proc/self/mounts', 'utf8');
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const mp = fields[1];
    if (mp === undefined) continue;
    const point = unescapeMountField(mp);
    if (point === base || point.startsWith(base + '/')) found.push(point);
  }
  return found.sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or under dir (lazily if a plain unmount fails). */
export async function unmountUnder(dir: string): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) {
      const r = await run(['umount', p]);
      if (r.code !== 0) await run(['umount', '-l', p]);
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`still mounted under ${dir}: ${left.join(', ')}`);
}

/** Unmounts and removes dir entirely. */
export async function removeTree(dir: string): Promise<void> {
  await unmountUnder(dir);
  // chattr +i or read-only bits do not stop root, except for immutable files; none are expected
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Bytes used by the files under dir (apparent sizes, hard links counted once). */
export async function treeBytes(dir: string): Promise<number> {
  const r = await run(['du', '-sb', dir]);
  const n = Number.parseInt(r.stdout.split(/\s/)[0] ?? '', 10);
  return Number.isFinite(n) ? n : 0;
}

/**
 * argv wrapped so that it runs in a private mount namespace with an empty
 * tmpfs over each of targets: for tools that insist on writing to fixed host
 * paths (/var/lib/containers/cache, /run/docker, /opt/containerd). The
 * command keeps its pid (unshare and sh exec it), and whatever it mounts goes
 * away with the namespace.
 */
export function withTmpfsOver(targets: string[], argv: string[]): string[] {
  const mounts = targets.map((t) => `mount -t tmpfs -o mode=755,size=256m joey-bench ${t}`).join(' && ');
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', `${mounts} && exec "$@"`, 'sh', ...argv];
}
