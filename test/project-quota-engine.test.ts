// The whole engine on a project-quota data root. This host's kernel has no
// XFS/ext4 quota, so, as test/project-quota.test.ts does for the backend
// alone, Debian's stock kernel boots under QEMU (TCG; see test/lib/guest-vm.ts)
// and, in it, the real joeyd runs with its data root on an XFS and on an
// ext4 filesystem mounted with prjquota, driven by the real joey CLI
// (test/guest/project-quota-engine.sh and -guest.ts). The guest prints one
// JSON line; each check here reads one field of it.
//
// XFS reports a full project as "No space left on device"; ext4, like every
// filesystem on the VFS quota code, as "Disk quota exceeded".
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { guestUnavailable, runGuestDriver } from './lib/guest-vm.ts';
import { makeTempDir, removeDir } from './lib/proc.ts';
import { busyboxInitTar } from './lib/rich-images.ts';

const SCRIPT = new URL('./guest/project-quota-engine.sh', import.meta.url).pathname;
const DRIVER = new URL('./guest/project-quota-engine-guest.ts', import.meta.url).pathname;
const FULL: Record<string, RegExp> = { xfs: /No space left on device/, ext4: /Disk quota exceeded/ };
const KiB = (mib: number): number => mib * 1024;

/** One CLI command's outcome, as the guest reports it. */
interface Step {
  code: number;
  out: string;
  ms: number;
}

interface Checks {
  error?: string;
  ms: number;
  startMs: number;
  stopMs: number;
  backend?: { backend: string; filesystem: string };
  import: Step;
  limited30: Step;
  free30: Step;
  started: Step;
  running30: Step;
  update: Step;
  grown30: Step;
  inspect: Step;
  volumeCreate: Step;
  volume20: Step;
  idsBefore: Record<string, number>;
  limitsBefore: Record<string, number | string>;
  rm: Step;
  volumeRm: Step;
  idsAfter: Record<string, number>;
  limitsAfter: Record<string, number | string>;
  stopped: string;
  problems: string[];
  mountsLeft: string[];
  cgroupsRunning: string[];
  cgroupsLeft: string[];
}

const show = (s: Step | undefined): string => (s ? `exit ${s.code}:\n${s.out}` : 'not run');

function ok(s: Step | undefined, what: string): void {
  assert.equal(s?.code, 0, `${what}: ${show(s)}`);
}

function full(s: Step | undefined, fs: string, what: string): void {
  assert.ok(s && s.code !== 0, `${what} should fail: ${show(s)}`);
  assert.match(s.out, FULL[fs]!, `${what}: not the filesystem's "full" error: ${show(s)}`);
}

let work: string | undefined;
after(async () => {
  if (work) await removeDir(work);
});

const skip = guestUnavailable();
test('the engine on a project-quota data root (XFS and ext4), in a guest running Debian\'s stock kernel', { skip, timeout: 400_000 }, async (t) => {
  // The guest sees the host's root read-only at the same paths: what it
  // needs from this run (the bundled driver, the rootfs tarball, the command
  // line) goes in a temp dir here.
  work = await makeTempDir('joey-it-pqe-');
  const tar = await busyboxInitTar(work);
  const { result, ms } = await runGuestDriver<Record<string, Checks | number>>(SCRIPT, DRIVER, work, [tar]);
  t.diagnostic(`guest: ${ms} ms from boot to power-off; the driver's node started at ${String(result.uptime)} s of guest uptime, finished at ${String(result.done)} s`);

  for (const fs of ['xfs', 'ext4']) {
    await t.test(fs, () => {
      const c = result[fs] as Checks;
      assert.ok(c && !c.error, `${fs}: ${String(c?.error)}\n${JSON.stringify(c, null, 1)}`);
      t.diagnostic(`${fs}: ${c.ms} ms in all; joeyd answered after ${c.startMs} ms, stopped in ${c.stopMs} ms; ${Object.entries(c).flatMap(([k, v]) => (v && typeof v === 'object' && 'ms' in v ? [`${k} ${(v as Step).ms}`] : [])).join(', ')} ms`);
      assert.equal(c.backend?.backend, 'project', `joeyd logs "disk quota backend" with backend=project for a prjquota data root: ${JSON.stringify(c.backend)}`);
      assert.equal(c.backend?.filesystem, fs, 'and names the filesystem');
      ok(c.import, 'joey import of the busybox rootfs');

      full(c.limited30, fs, 'joey run --disk-quota 20m writing 30 MiB');
      ok(c.free30, 'joey run without --disk-quota writing 30 MiB');

      ok(c.started, 'joey run -d --disk-quota 20m');
      const df = /^overlay\s+(\d+)\s/m.exec(c.running30?.out ?? '');
      assert.equal(Number(df?.[1]), KiB(20), `df / inside the container shows the 20 MiB limit: ${show(c.running30)}`);
      full(c.running30, fs, 'joey exec writing 30 MiB into a running 20 MiB container');
      ok(c.update, 'joey update --disk-quota 40m on the running container');
      ok(c.grown30, 'after the live grow to 40 MiB the running container writes 30 MiB');
      const [id, quota, quotaId] = (c.inspect?.out ?? '').trim().split(' ');
      ok(c.inspect, 'joey inspect');
      assert.deepEqual(JSON.parse(quota ?? 'null'), { '/': '40m' }, `joey inspect shows Config.DiskQuota, as updated: ${show(c.inspect)}`);
      assert.equal(quotaId, '100000', `joey inspect shows Config.QuotaID, the project id allocated: ${show(c.inspect)}`);

      ok(c.volumeCreate, 'joey volume create -o size=10m');
      full(c.volume20, fs, 'a container writing 20 MiB into the 10 MiB volume');

      const owner = `containers/${id}`;
      assert.deepEqual(c.idsBefore, { [owner]: 100000, 'volumes/pqvol': 100001 }, 'the container and the volume each got a project id, allocated from 100000');
      assert.deepEqual(c.limitsBefore, { [owner]: KiB(40), 'volumes/pqvol': KiB(10) }, 'the filesystem holds their hard limits (KiB), the grown one for the container');
      ok(c.rm, 'joey rm -f of the running container');
      ok(c.volumeRm, 'joey volume rm');
      assert.deepEqual(c.idsAfter, {}, 'removal forgets the project ids');
      assert.deepEqual(c.limitsAfter, { [owner]: 0, 'volumes/pqvol': 0 }, 'removal lifts the limits on those ids');

      assert.equal(c.stopped, '0', 'joeyd exits 0 on SIGTERM');
      assert.deepEqual(c.mountsLeft, [], 'nothing is left mounted under the data root');
      assert.ok(c.cgroupsRunning?.length, `the running container had its cgroup under --cgroup-parent: ${JSON.stringify(c.cgroupsRunning)}`);
      assert.deepEqual(c.cgroupsLeft, [], 'no container cgroup is left under the --cgroup-parent');
      assert.deepEqual(c.problems, [], 'joeyd logged no warning or error');
    });
  }
});
