// joey upgrade: the container runs on a new image in place (same id, name,
// volumes, address, ports and settings), or goes back to the old one.
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { containerPath } from './container-each.ts';
import { parseGoDuration } from './go-values.ts';

export interface UpgradeOptions {
  image?: string;
  entrypoint?: string;
  keepRootfs?: boolean;
  rollbackWindow?: string;
}

/** The API body: PouchContainer's Image, Cmd, Entrypoint, plus joey's options. */
export function upgradeBody(command: string[], opts: UpgradeOptions): Record<string, unknown> {
  let window = 0;
  if (opts.rollbackWindow !== undefined && opts.rollbackWindow !== '') {
    try {
      window = parseGoDuration(opts.rollbackWindow);
    } catch (err) {
      throw new StatusError(`invalid argument "${opts.rollbackWindow}" for "--rollback-window" flag: ${(err as Error).message}`);
    }
    if (window < 0) throw new StatusError(`invalid argument "${opts.rollbackWindow}" for "--rollback-window" flag: the window cannot be negative`);
  }
  return {
    ...(opts.image ? { Image: opts.image } : {}),
    ...(command.length ? { Cmd: command } : {}),
    // As `run --entrypoint ""`: an empty one clears the image's.
    ...(opts.entrypoint !== undefined ? { Entrypoint: opts.entrypoint === '' ? [] : [opts.entrypoint] } : {}),
    KeepRootfs: !!opts.keepRootfs,
    RollbackWindow: window,
  };
}

export async function runUpgrade(cli: Cli, container: string, command: string[], opts: UpgradeOptions): Promise<void> {
  const body = upgradeBody(command, opts);
  const res = await cli.client.post<{ Id: string; Image: string; PreviousImage: string }>(containerPath(container, '/upgrade'), { body });
  cli.out(`${container}: upgraded from ${res.PreviousImage} to ${res.Image}\n`);
}
