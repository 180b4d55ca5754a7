// Bare runc, the floor of the run benchmark: an OCI bundle made from the
// busybox image's layer and `runc spec`, run in the foreground with
// `runc run`, which creates, starts, waits for and deletes the container.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeTree } from './fsutil.ts';
import { excerpt, run, runOk } from './proc.ts';

export interface RuncBundle {
  /** `runc run` of a new container named name */
  runCommand(name: string): { argv: string[]; env: NodeJS.ProcessEnv };
  /** ids of the containers runc has state for */
  containers(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * A bundle under dir: rootfs unpacked from layerPath (read-only, shared by
 * every run), `runc spec`'s default config with no terminal, args, the default
 * namespaces (a new network namespace with no interface but lo, down), and
 * the cgroup cgroupsPath; runc's state in dir/state.
 */
export async function prepareRuncBundle(dir: string, layerPath: string, args: string[], cgroupsPath?: string): Promise<RuncBundle> {
  const bundle = join(dir, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  const state = join(dir, 'state');
  await mkdir(rootfs, { recursive: true });
  await mkdir(state, { recursive: true });
  await runOk(['tar', '-xzf', layerPath, '-C', rootfs]);
  await runOk(['runc', 'spec', '--bundle', bundle]);
  const configPath = join(bundle, 'config.json');
  const spec = JSON.parse(await readFile(configPath, 'utf8')) as {
    process: { terminal: boolean; args: string[] };
    root: { readonly: boolean };
    linux: { cgroupsPath?: string; namespaces: { type: string }[] };
  };
  spec.process.terminal = false;
  spec.process.args = args;
  spec.root.readonly = true;
  if (cgroupsPath) spec.linux.cgroupsPath = cgroupsPath;
  if (!spec.linux.namespaces.some((n) => n.type === 'network')) spec.linux.namespaces.push({ type: 'network' });
  await writeFile(configPath, JSON.stringify(spec, null, 2));
  const runc = ['runc', '--root', state];
  const containers = async () => {
    const r = await run([...runc, 'list', '-q']);
    if (r.code !== 0) throw new Error(`runc list failed: ${excerpt(r.stderr || r.stdout)}`);
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  };
  return {
    runCommand: (name) => ({ argv: [...runc, 'run', '--bundle', bundle, name], env: process.env }),
    containers,
    async stop() {
      for (const id of await containers().catch(() => [])) await run([...runc, 'delete', '--force', id]);
      await removeTree(dir);
    },
  };
}
