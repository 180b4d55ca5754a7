// Learning about exits without polling every container: conmon writes
// <exit-dir>/<id> by rename (a GLib temp file `<id>.XXXXXX`, then rename), so
// one fs.watch on the shared exit dir sees every exit. inotify can overflow
// or miss events across a re-created dir, so a periodic re-scan backs it up.
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface WatchExitsOptions {
  /** Safety-net re-scan period; 0 turns it off. */
  rescanMs?: number;
  /** Report exit files already present when the watch starts (exits that
   * happened while joeyd was down). Default true. */
  initial?: boolean;
  /** Keep the process alive while watching (default false: a daemon has its servers for that). */
  persistent?: boolean;
}

/** GLib's g_file_set_contents temp name: the target plus a dot and six characters. */
const TEMP_NAME = /\.[A-Za-z0-9]{6}$/;

/** Calls `onExit(id)` once for each exit file that appears, and again if it is
 * replaced (the container ran and exited again). Returns a stop function. */
export function watchExits(exitDir: string, onExit: (id: string) => void, opts: WatchExitsOptions = {}): () => void {
  // name → inode of the exit file last reported: a rename puts a new inode there.
  const seen = new Map<string, number>();
  let stopped = false;
  let watcher: FSWatcher | undefined;

  const check = async (name: string): Promise<void> => {
    if (TEMP_NAME.test(name)) return;
    let ino: number;
    try {
      ino = (await stat(join(exitDir, name))).ino;
    } catch {
      seen.delete(name); // removed (the engine cleans exit files up on restart)
      return;
    }
    if (stopped || seen.get(name) === ino) return;
    seen.set(name, ino);
    try {
      onExit(name);
    } catch {
      // the callback's failures are its own
    }
  };

  const scan = async (): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(exitDir);
    } catch {
      return;
    }
    const present = new Set(names);
    for (const n of seen.keys()) if (!present.has(n)) seen.delete(n);
    for (const n of names) await check(n);
  };

  const startWatch = () => {
    try {
      watcher = watch(exitDir, { persistent: !!opts.persistent }, (_event, name) => {
        if (name) void check(name.toString());
        else void scan(); // overflow: the kernel did not say what changed
      });
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined; // the next re-scan tries again
      });
    } catch {
      watcher = undefined;
    }
  };

  if (opts.initial === false) {
    // Mark what is there as seen, before watching, so that no new exit is mistaken for an old one.
    let names: string[] = [];
    try {
      names = readdirSync(exitDir);
    } catch {
      // not there yet
    }
    for (const n of names) {
      try {
        if (!TEMP_NAME.test(n)) seen.set(n, statSync(join(exitDir, n)).ino);
      } catch {
        // gone meanwhile
      }
    }
  }
  startWatch();
  if (opts.initial !== false) void scan();
  const period = opts.rescanMs ?? 5000;
  const timer =
    period > 0
      ? setInterval(() => {
          if (!watcher) startWatch();
          void scan();
        }, period)
      : undefined;
  timer?.unref();

  return () => {
    stopped = true;
    if (timer) clearInterval(timer);
    watcher?.close();
  };
}
