// Running external binaries. Every call to a program outside Node goes
// through here (or a sibling module in sys/) so that tests can swap it.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { JoeyError, unavailable } from '../errdefs/index.ts';

const resolved = new Map<string, string>();

/** `file` as an absolute path, looked up in PATH once per name: the kernel
 * otherwise tries every PATH entry on every spawn (a dozen failed execve
 * calls with a long PATH, on hot paths such as mount and umount). A name not
 * found is left as is, so that spawn reports it missing. */
export function resolveBinary(file: string): string {
  if (file.includes('/')) return file;
  const hit = resolved.get(file);
  if (hit) return hit;
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, file);
    try {
      accessSync(p, constants.X_OK);
      resolved.set(file, p);
      return p;
    } catch {
      // not here
    }
  }
  return file;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Resolve with a non-zero exit code instead of throwing. */
  allowFailure?: boolean;
}

/** Runs `file` with `args` (no shell). Throws an `internal` JoeyError naming the
 * command and its stderr when it exits non-zero, `unavailable` when it is missing. */
export function run(file: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.env ? file : resolveBinary(file), args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(unavailable(`${file} is not installed`, e));
      else reject(new JoeyError('internal', `${file}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      const result = {
        code: code ?? 128 + (signal ? 9 : 0),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      };
      if (result.code !== 0 && !opts.allowFailure) {
        const detail = result.stderr.trim() || result.stdout.trim() || `exit ${result.code}${signal ? ` (${signal})` : ''}`;
        reject(new JoeyError('internal', `${file} ${args.join(' ')}: ${detail}`));
        return;
      }
      resolve(result);
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}
