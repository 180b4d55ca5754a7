// Running external binaries. Every call to a program outside Node goes
// through here (or a sibling module in sys/) so that tests can swap it.
import { spawn } from 'node:child_process';
import { JoeyError, unavailable } from '../errdefs/index.ts';

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
    const child = spawn(file, args, {
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
