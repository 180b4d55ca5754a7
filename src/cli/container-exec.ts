// joey exec: a process in a running container, attached (or -d detached);
// the exec's exit code becomes ours.
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { monitorTtySize, streamHijacked } from './attach-io.ts';
import { containerPath } from './container-each.ts';
import { checkFlags, parseKvFile } from './container-opts.ts';
import type { OptSpec } from './flag-spec.ts';
import { escapePath } from '../client/client.ts';

export interface ExecOptions {
  detach?: boolean;
  detachKeys?: string;
  interactive?: boolean;
  tty?: boolean;
  user?: string;
  privileged?: boolean;
  env?: string[];
  envFile?: string[];
  workdir?: string;
}

export const EXEC_ENV_FLAG: OptSpec = { flags: '-e, --env <list>', desc: 'Set environment variables', collect: 'list', kind: 'env' };

/** docker's parseExec: the body of POST /containers/{id}/exec, in Go's field order. */
export function execConfig(cli: Cli, command: string[], opts: ExecOptions): Record<string, unknown> {
  const checked = checkFlags([EXEC_ENV_FLAG], opts as Record<string, unknown>, { env: cli.env, cwd: cli.cwd });
  const env = [...(opts.envFile ?? []).flatMap((f) => parseKvFile(f, (k) => cli.env[k])), ...((checked.env as string[] | undefined) ?? [])];
  const attached = !opts.detach;
  const out = cli.io.stdout;
  const config: Record<string, unknown> = { User: opts.user ?? '', Privileged: !!opts.privileged, Tty: !!opts.tty };
  if (opts.tty) config.ConsoleSize = [out.isTTY ? (out.rows ?? 0) : 0, out.isTTY ? (out.columns ?? 0) : 0];
  return {
    ...config,
    AttachStdin: attached && !!opts.interactive,
    AttachStderr: attached,
    AttachStdout: attached,
    Detach: !!opts.detach,
    DetachKeys: opts.detachKeys || cli.config.detachKeys || '',
    Env: env.length > 0 ? env : null,
    WorkingDir: opts.workdir ?? '',
    Cmd: command,
  };
}

export async function runExec(cli: Cli, container: string, command: string[], opts: ExecOptions): Promise<void> {
  let config: Record<string, unknown>;
  try {
    config = execConfig(cli, command, opts);
  } catch (err) {
    if ((err as Error).name === 'FlagValueError') throw err;
    throw new StatusError((err as Error).message);
  }
  await cli.client.get(containerPath(container, '/json'));
  const tty = config.Tty === true;
  if (!opts.detach && tty && config.AttachStdin === true && !cli.stdinIsTerminal) throw new StatusError('the input device is not a TTY');
  const created = await cli.client.post<{ Id?: string }>(containerPath(container, '/exec'), { body: config });
  const execId = created?.Id ?? '';
  if (execId === '') throw new StatusError('exec ID empty');
  const start: Record<string, unknown> = { Detach: !!opts.detach, Tty: tty };
  if (config.ConsoleSize) start.ConsoleSize = config.ConsoleSize;
  if (opts.detach) {
    await cli.client.post(`/exec/${escapePath(execId)}/start`, { body: start });
    return;
  }
  const conn = await cli.client.hijack(`/exec/${escapePath(execId)}/start`, { body: start });
  const stops: Array<() => void> = [() => conn.close()];
  try {
    if (tty && cli.stdinIsTerminal) stops.push(monitorTtySize(cli, `/exec/${escapePath(execId)}/resize`));
    await streamHijacked(cli, conn, {
      stdin: config.AttachStdin ? cli.io.stdin : undefined,
      stdout: cli.io.stdout,
      stderr: tty ? cli.io.stdout : cli.io.stderr,
      tty,
      detachKeys: String(config.DetachKeys),
    });
  } finally {
    for (const stop of stops.reverse()) stop();
  }
  const inspect = await cli.client.get<{ ExitCode?: number | null }>(`/exec/${escapePath(execId)}/json`);
  const code = inspect?.ExitCode ?? 0;
  if (code !== 0) throw new StatusError('', code);
}
