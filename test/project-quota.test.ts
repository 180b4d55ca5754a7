// The project-quota backend for real: this host's kernel has no XFS/ext4
// quota, so Debian's stock kernel boots under QEMU (TCG) and runs
// test/guest/project-quota-guest.ts against an XFS and an ext4 filesystem
// mounted with prjquota (see test/lib/guest-vm.ts). The guest prints one
// JSON line; each check here reads one field of it.
//
// XFS reports a full project as ENOSPC (the project is a directory tree's own
// disk); ext4, like every filesystem on the VFS quota code, as EDQUOT.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guestUnavailable, runInGuest } from './lib/guest-vm.ts';

const SCRIPT = new URL('./guest/project-quota.sh', import.meta.url).pathname;
const FULL: Record<string, string> = { xfs: 'ENOSPC', ext4: 'EDQUOT' };

type Checks = Record<string, unknown> & { inodes: { made: number; stop: string } };

const skip = guestUnavailable();
test('project quota on XFS and ext4, in a guest running Debian\'s stock kernel', { skip, timeout: 300_000 }, async (t) => {
  const r = await runInGuest(SCRIPT, { timeoutMs: 240_000 });
  const line = r.console.split(/\r?\n/).find((l) => l.startsWith('JOEY-RESULT '));
  assert.ok(line, `the guest printed no result (exit ${r.code}, ${r.ms} ms):\n${r.console.slice(-4000)}`);
  const result = JSON.parse(line.slice('JOEY-RESULT '.length)) as Record<string, Checks | number>;
  t.diagnostic(`guest: ${r.ms} ms from boot to power-off; node started at ${result.uptime} s of guest uptime`);
  for (const fs of ['xfs', 'ext4']) {
    await t.test(fs, () => {
      const c = result[fs] as Checks;
      assert.ok(c && !('error' in c), `${fs}: ${String(c?.error)}`);
      t.diagnostic(`${fs}: checks took ${String(c.ms)} ms`);
      const full = FULL[fs];
      assert.equal(c.chosen, 'project', 'select.ts picks the project backend for a prjquota mount');
      assert.equal(c.autoId, 100000, 'QuotaID -1: the first free id from 100000');
      assert.equal(c.limited30, full, 'a 20 MiB area refuses 30 MiB');
      assert.equal(c.free30, 'ok', 'a directory without a limit takes 30 MiB');
      assert.equal(c.grown30, 'ok', 'grown live to 40 MiB, the area takes 30 MiB');
      assert.equal(c.shrunk20, full, 'shrunk live to 10 MiB, the area refuses 20 MiB');
      assert.equal(c.explicitId, 4242, 'an explicit QuotaID is used as given');
      assert.match(String(c.sameIdRefused), /already used by containers\/c1/, 'an id held by another area is refused');
      assert.equal(c.overlay30, full, 'a 20 MiB rootfs area refuses 30 MiB written through overlayfs');
      assert.equal(c.overlay10, 'ok', 'and takes 10 MiB');
      assert.equal(c.volumeId, 100001, 'a sized volume gets its own id');
      assert.equal(c.inodes.stop, full, `a 50-inode area stops file creation (made ${c.inodes.made})`);
      assert.ok(c.inodes.made < 50, `at most 50 inodes, the directory's own included (made ${c.inodes.made})`);
      assert.equal(c.idFileGone, true, 'removal forgets the id');
      assert.equal(c.removed30, 'ok', 'removal lifts the limit');
      assert.deepEqual(c.owners, ['containers/c1', 'volumes/v']);
    });
  }
});
