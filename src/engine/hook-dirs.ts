// The --hooks-dir files as they are now: read at daemon start (a file that
// does not parse stops joeyd there), then read again before a container's
// spec is built whenever a dir or one of its files changed since, so a hook
// dropped in, edited or removed applies to the next container started,
// without restarting joeyd. "Changed" is the modification times of the dirs
// and of their *.json files: a readdir and a few stats per start, no watcher.
// A file that does not parse after a change is logged, naming it, and the
// previous set stays until the next change.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../errdefs/index.ts';
import { loadHookDirs, type HookFile } from '../runtime/spec/hooks-dir.ts';
import { log } from '../util/log.ts';

/** What a dir looks like now: its own and its *.json files' modification
 * times (with size and inode: an edit within the clock's tick, or a file
 * renamed over another, shows too). */
function stampOf(dir: string): string {
  const mtime = (p: string): string => {
    try {
      const st = statSync(p);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return '-';
    }
  };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return 'missing';
  }
  return [mtime(dir), ...names.map((n) => `${n}@${mtime(join(dir, n))}`)].join(',');
}

export class HookDirs {
  private files: HookFile[];
  private stamp: string;

  constructor(
    private readonly dirs: string[],
    private readonly load: (dirs: string[]) => HookFile[] = loadHookDirs,
    private readonly stampDir: (dir: string) => string = stampOf,
  ) {
    // Stamped before reading: a change while reading shows at the next look.
    this.stamp = this.stampNow();
    this.files = load(dirs);
  }

  /** The files that apply now (re-read when something changed). */
  current(): HookFile[] {
    if (this.dirs.length === 0) return this.files;
    const now = this.stampNow();
    if (now === this.stamp) return this.files;
    this.stamp = now;
    try {
      this.files = this.load(this.dirs);
      log.info('OCI hooks reloaded', { files: this.files.map((f) => f.source) });
    } catch (e) {
      log.error('a hooks dir changed but cannot be read; the hooks read before still apply', { err: messageOf(e) });
    }
    return this.files;
  }

  private stampNow(): string {
    return this.dirs.map((d) => this.stampDir(d)).join('|');
  }
}
