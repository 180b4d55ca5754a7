// joey pause / joey unpause: freezes and thaws every process of the containers.
import type { Cli } from './context.ts';
import { containerPath, forEachContainer } from './container-each.ts';

export async function runPause(cli: Cli, names: string[]): Promise<void> {
  await forEachContainer(cli, names, (name) => cli.client.post(containerPath(name, '/pause')));
}

export async function runUnpause(cli: Cli, names: string[]): Promise<void> {
  await forEachContainer(cli, names, (name) => cli.client.post(containerPath(name, '/unpause')));
}
