// Test helpers: in-memory stdio for running `joey` in-process.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import type { CliIo, InStream, OutStream } from './context.ts';
import { runCli } from './program.ts';

export interface FakeIoOptions {
  stdin?: string | Buffer;
  stdinTTY?: boolean;
  stdoutTTY?: boolean;
  columns?: number;
  rows?: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

class Capture extends Writable {
  chunks: Buffer[] = [];
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export function fakeIo(opts: FakeIoOptions = {}): { io: CliIo; stdout: () => string; stderr: () => string; stdoutBytes: () => Buffer } {
  const stdin: Readable & { isTTY?: boolean } =
    opts.stdin === undefined ? new PassThrough().end() : Readable.from([Buffer.from(opts.stdin)]);
  stdin.isTTY = opts.stdinTTY;
  const stdout = new Capture();
  stdout.isTTY = opts.stdoutTTY;
  stdout.columns = opts.columns;
  stdout.rows = opts.rows;
  const stderr = new Capture();
  return {
    io: {
      stdin: stdin as unknown as InStream,
      stdout: stdout as unknown as OutStream,
      stderr: stderr as unknown as OutStream,
      env: { HOME: '/nonexistent-home', ...opts.env },
      cwd: opts.cwd,
    },
    stdout: () => stdout.text(),
    stderr: () => stderr.text(),
    stdoutBytes: () => Buffer.concat(stdout.chunks),
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs joey in-process against `host` with the given stdio settings. */
export async function runJoey(argv: string[], opts: FakeIoOptions & { host?: string } = {}): Promise<RunResult> {
  const f = fakeIo({ ...opts, env: { JOEY_HOST: opts.host, ...opts.env } });
  const code = await runCli(argv, f.io);
  return { code, stdout: f.stdout(), stderr: f.stderr() };
}

/** The real docker CLI, when installed: the reference for joey's output. */
export const DOCKER_BIN = '/usr/local/bin/docker';

export function dockerAvailable(): boolean {
  return existsSync(DOCKER_BIN);
}

/** Runs the docker CLI against `host` (a fake API), with a throwaway config dir. */
export async function runDocker(argv: string[], opts: { host: string; stdin?: string }): Promise<RunResult> {
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'joey-docker-cfg-'));
  try {
    const child = spawn(DOCKER_BIN, argv, {
      env: { PATH: process.env.PATH, HOME: configDir, TZ: process.env.TZ, DOCKER_HOST: opts.host, DOCKER_CONFIG: configDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // docker may exit before it reads its input (a usage error): not a failure of the test
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const [code] = (await once(child, 'close')) as [number];
    return { code, stdout, stderr };
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
}
