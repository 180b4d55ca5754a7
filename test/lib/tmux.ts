// A real terminal for interactive tests: a private tmux server (its own socket
// in a temp dir, no config file) running a host shell in one pane. Tests type
// into it, read the screen, resize it and send control keys.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir, run, runOk, waitFor } from './proc.ts';

export interface Terminal {
  /** Types the text literally, then Enter. */
  type(text: string): Promise<void>;
  /** Sends tmux key names, e.g. 'C-c', 'C-x', 'x', 'Enter'. */
  keys(...keys: string[]): Promise<void>;
  /** The pane's text: scrollback and screen, trailing blanks trimmed. */
  screen(): Promise<string>;
  /** Waits until the screen matches; returns the match. The error shows the screen. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The pane's size. */
  size(): Promise<{ rows: number; cols: number }>;
  /** Resizes the window (and so the pane). */
  resize(cols: number, rows: number): Promise<void>;
  /** Ends the tmux server (and the programs in it) and removes its dir. */
  close(): Promise<void>;
}

export interface TerminalOptions {
  cols?: number;
  rows?: number;
  /** The environment of the shell in the pane (tmux's server gets it). */
  env: NodeJS.ProcessEnv;
  /** The pane's program; default `sh`. */
  command?: string;
  /** The prompt of the pane's shell (set through an $ENV file: dash resets PS1 from the environment for root). Default `host$ `. */
  prompt?: string;
}

export async function startTerminal(opts: TerminalOptions): Promise<Terminal> {
  const dir = await makeTempDir('joey-it-tmux-');
  const sock = join(dir, 'tmux.sock');
  const rc = join(dir, 'shrc');
  await writeFile(rc, `PS1='${(opts.prompt ?? 'host$ ').replace(/'/g, `'\\''`)}'\n`);
  const env = { ...opts.env, ENV: rc };
  const tmux = (args: string[]): Promise<unknown> => runOk('tmux', ['-S', sock, ...args], { env, timeoutMs: 10_000 });
  const tmuxOut = async (args: string[]): Promise<string> => (await runOk('tmux', ['-S', sock, ...args], { env, timeoutMs: 10_000 })).stdout;
  try {
    await tmux(['-f', '/dev/null', 'new-session', '-d', '-s', 'it', '-x', String(opts.cols ?? 100), '-y', String(opts.rows ?? 40), opts.command ?? 'sh']);
    await tmux(['set-option', '-g', 'status', 'off']);
    await tmux(['set-option', '-g', 'history-limit', '5000']);
  } catch (e) {
    await run('tmux', ['-S', sock, 'kill-server']);
    await removeDir(dir);
    throw e;
  }
  const screen = async (): Promise<string> =>
    (await tmuxOut(['capture-pane', '-p', '-J', '-t', 'it', '-S', '-5000'])).split('\n').map((l) => l.trimEnd()).join('\n').trimEnd();
  return {
    type: async (text) => {
      await tmux(['send-keys', '-t', 'it', '-l', text]);
      await tmux(['send-keys', '-t', 'it', 'Enter']);
    },
    keys: async (...keys) => {
      await tmux(['send-keys', '-t', 'it', ...keys]);
    },
    screen,
    waitFor: async (pattern, timeoutMs = 15_000) => {
      let last = '';
      try {
        return await waitFor(`the terminal to show ${pattern}`, async () => {
          last = await screen();
          return last.match(pattern) ?? undefined;
        }, timeoutMs, 50);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n--- screen\n${last}`);
      }
    },
    size: async () => {
      const [rows, cols] = (await tmuxOut(['display-message', '-p', '-t', 'it', '#{pane_height} #{pane_width}'])).trim().split(' ').map(Number);
      return { rows: rows!, cols: cols! };
    },
    resize: async (cols, rows) => {
      await tmux(['resize-window', '-t', 'it', '-x', String(cols), '-y', String(rows)]);
    },
    close: async () => {
      await run('tmux', ['-S', sock, 'kill-server'], { env, timeoutMs: 10_000 });
      await removeDir(dir);
    },
  };
}
