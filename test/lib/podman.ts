// podman as a peer with private storage (vfs, under a temp dir), to check that
// what joey pushes or saves is what another engine accepts.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mountsUnder } from './daemon.ts';
import { makeTempDir, removeDir, run, type CmdOptions, type CmdResult } from './proc.ts';

export interface Podman {
  dir: string;
  /** Runs podman on the private storage; resolves whatever the exit code. */
  run(args: string[], opts?: CmdOptions): Promise<CmdResult>;
  /** Flattened root filesystem of an image (vfs: a plain directory); unmount with `run(['image','unmount',…])`. */
  mountImage(ref: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function startPodman(): Promise<Podman> {
  const dir = await makeTempDir('joey-it-podman-');
  const root = join(dir, 'root');
  const runroot = join(dir, 'run');
  const storageConf = join(dir, 'storage.conf');
  await writeFile(join(dir, 'auth.json'), '{"auths":{}}\n');
  await writeFile(storageConf, `[storage]\ndriver = "vfs"\nrunroot = "${runroot}"\ngraphroot = "${root}"\n`);
  const env = { ...process.env, CONTAINERS_STORAGE_CONF: storageConf, REGISTRY_AUTH_FILE: join(dir, 'auth.json'), XDG_RUNTIME_DIR: join(dir, 'xdg') };
  const podman = (args: string[], opts: CmdOptions = {}): Promise<CmdResult> => run('podman', [
    '--root', root, '--runroot', runroot, '--storage-driver', 'vfs', '--tmpdir', join(dir, 'tmp'),
    '--events-backend', 'none', '--cgroup-manager', 'cgroupfs', ...args,
  ], { ...opts, env: { ...env, ...opts.env } });
  return {
    dir,
    run: podman,
    mountImage: async (ref) => {
      const r = await podman(['image', 'mount', ref]);
      if (r.code !== 0) throw new Error(`podman image mount ${ref}: ${r.stderr}`);
      return r.stdout.trim();
    },
    cleanup: async () => {
      await podman(['image', 'unmount', '--all']);
      for (const m of (await mountsUnder(dir)).reverse()) await run('umount', ['-l', m]);
      await removeDir(dir);
    },
  };
}
