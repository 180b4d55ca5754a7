// What bench/run and bench/density share: a private work directory and
// cgroup parent that are removed at the end whatever happens, the busybox
// image in a loopback registry, and engines started with that image pulled.
import { mkdtempSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { cgroupDirsUnder, removeCgroupTree } from '../../test/lib/cgroups.ts';
import { type Context, type Engine, type Instance } from './engines.ts';
import { mountsUnder, removeTree } from './fsutil.ts';
import { ensureBusyboxImage } from './images.ts';
import { excerpt, installSignalCleanup, onCleanup, onceAsync, run, runCleanups } from './proc.ts';
import { pushLayout, startRegistry } from './registry.ts';

export const log = (s: string): void => void process.stderr.write(s + '\n');

export interface Session {
  /** the work directory, /tmp/<prefix>XXXXXX */
  dir: string;
  /** the cgroup every engine's containers go under, /joey-bench-<pid> */
  cgroupRoot: string;
  /** the busybox image in the registry (host:port/bench/busybox:latest) */
  image: string;
  registry: string;
  /** its layer blob (gzip tar), for a runc bundle */
  layerPath: string;
  repoRoot: string;
  /** what was left when the session ended: mounts under dir, cgroups that could not be removed */
  finish(): Promise<{ mounts: string[]; cgroups: string[] }>;
}

/** Sets up the session (root only); everything it makes is undone by finish() or on a signal. */
export async function openSession(name: string, prefix: string, repoRoot: string): Promise<Session> {
  if (process.getuid?.() !== 0) throw new Error(`bench/${name} needs root (it starts joeyd, dockerd, containerd, podman and runc)`);
  installSignalCleanup();
  // short paths: podman refuses a runroot longer than 50 characters, and unix
  // socket paths must stay under 108
  const dir = mkdtempSync(join(process.env['JOEY_BENCH_TMP'] || '/tmp', prefix));
  onCleanup('work dir', () => removeTree(dir));
  const cgroupRoot = `/joey-bench-${process.pid}`;
  const cgroupsLeft: string[] = [];
  onCleanup('cgroups', async () => {
    cgroupsLeft.push(...(await removeCgroupTree(cgroupRoot)));
  });
  const bb = await ensureBusyboxImage(log);
  const registry = await startRegistry(join(dir, 'registry'));
  onCleanup('registry', () => registry.stop());
  const image = `${registry.host}/bench/busybox:latest`;
  await pushLayout(bb.dir, bb.tag, image, dir);
  log(`pushed ${image} (${(bb.compressedBytes / 1e6).toFixed(1)} MB)`);
  return {
    dir,
    cgroupRoot,
    image,
    registry: registry.host,
    layerPath: bb.layerPath,
    repoRoot,
    async finish() {
      await runCleanups();
      return { mounts: mountsUnder(dir), cgroups: cgroupsLeft };
    },
  };
}

/** The engine's context: its own cgroup parent below the session's. */
export function contextFor(s: Session, engine: string): Context {
  return { registry: s.registry, repoRoot: s.repoRoot, cgroupParent: `${s.cgroupRoot}/${engine}` };
}

/** Starts e in dir and pulls the session's image into it (all untimed); stopped at the end at the latest. */
export async function startWithImage(
  s: Session,
  e: Engine,
  dir: string,
  extra: Partial<Context> = {},
): Promise<Instance & { stop(): Promise<void> }> {
  const inst = await e.start(dir, { ...contextFor(s, e.name), ...extra });
  const stop = onceAsync(inst.stop);
  const dereg = onCleanup(`engine ${e.name}`, stop);
  try {
    const c = inst.pull(s.image);
    const r = await run(c.argv, { env: c.env, timeoutSeconds: 300 });
    if (r.code !== 0) throw new Error(`pull exited ${r.code ?? r.signal}: ${excerpt(r.stderr || r.stdout)}`);
    const bad = await inst.verify(s.image, 1);
    if (bad) throw new Error(`pulled, but ${bad}`);
  } catch (err) {
    await stop();
    dereg();
    throw err;
  }
  return {
    ...inst,
    stop: async () => {
      await stop();
      dereg();
    },
  };
}

/** Cgroup directories left below the engine's cgroup parent (its own directory not counted). */
export async function cgroupsBelow(s: Session, engine: string): Promise<string[]> {
  const parent = `${s.cgroupRoot}/${engine}`;
  const rel = new Set<string>();
  for (const d of await cgroupDirsUnder(parent)) rel.add(d.slice(d.indexOf(parent) + parent.length));
  return [...rel].sort();
}

/** joeyd's warnings and errors from the session's log (its log goes with the work directory). */
export function joeydLogProblems(s: Session): string[] {
  try {
    return readFileSync(join(s.dir, 'joey', 'joeyd.log'), 'utf8')
      .split('\n')
      .filter((l) => /warn|error|fail/i.test(l));
  } catch {
    return []; // joeyd not started
  }
}

/** Writes the JSON results and says where, and what the session left behind. */
export async function writeResults(outPath: string, result: unknown, left: { mounts: string[]; cgroups: string[] }): Promise<void> {
  await writeFile(outPath, JSON.stringify(result, null, 2) + '\n');
  log(`results: ${relative(process.cwd(), outPath) || outPath}`);
  if (left.mounts.length > 0) log(`warning: still mounted: ${left.mounts.join(', ')}`);
  if (left.cgroups.length > 0) log(`warning: cgroups not removed: ${left.cgroups.join(', ')}`);
}
