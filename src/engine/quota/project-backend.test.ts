import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectSys, type ProjectFs } from '../../sys/quota/project.ts';
import { FIRST_AUTO_ID, ProjectBackend } from './project-backend.ts';
import { backendFor } from './select.ts';
import { DiskQuotas } from './service.ts';

const MiB = 1024 * 1024;

/** The real command lines over a runner that records them. */
function recording(stderr = '') {
  const calls: string[] = [];
  const sys = projectSys(async (file, args) => {
    calls.push([file, ...args].join(' | '));
    return { code: 0, stdout: '', stderr };
  });
  return { calls, sys };
}

async function setup(fs: ProjectFs) {
  const root = await mkdtemp(join(tmpdir(), 'joey-pquota-unit-'));
  const { calls, sys } = recording();
  const backend = new ProjectBackend({ root: join(root, 'quota', 'project'), fs, sys });
  return { root, calls, backend, quotas: new DiskQuotas(backend) };
}

test('the backend follows the data root: project quota only where it is enforced', () => {
  assert.equal(backendFor('xfs', ['rw', 'relatime', 'attr2', 'inode64', 'prjquota']), 'project');
  assert.equal(backendFor('xfs', ['rw', 'pquota']), 'project');
  assert.equal(backendFor('ext4', ['rw', 'relatime', 'prjquota']), 'project');
  assert.equal(backendFor('xfs', ['rw', 'pqnoenforce']), 'loop', 'accounting alone limits nobody');
  assert.equal(backendFor('xfs', ['rw', 'noquota']), 'loop');
  assert.equal(backendFor('ext4', ['rw', 'usrquota']), 'loop');
  assert.equal(backendFor('tmpfs', ['prjquota']), 'loop');
  assert.equal(backendFor('btrfs', ['rw']), 'btrfs');
  assert.equal(backendFor('ext4'), 'loop');
});

test('XFS: xfs_quota sets the limit, then the project on the directory; resize both ways; removal lifts the limit', async () => {
  const { root, calls, backend, quotas } = await setup({ type: 'xfs', mountpoint: '/data' });
  const dir = join(root, 'snap');
  await quotas.limitRootfs('c1', dir, { bytes: 20 * MiB, inodes: 1000 });
  assert.deepEqual(calls, [
    `xfs_quota | -x | -c | limit -p bhard=20480k ihard=1000 ${FIRST_AUTO_ID} | /data`,
    `xfs_quota | -x | -c | project -s -p ${dir} ${FIRST_AUTO_ID} | /data`,
  ]);
  assert.ok((await stat(join(dir, 'fs'))).isDirectory());
  await quotas.resizeRootfs('c1', dir, { bytes: 10 * MiB }, { live: true });
  assert.equal(calls.at(-1), `xfs_quota | -x | -c | limit -p bhard=10240k ihard=0 ${FIRST_AUTO_ID} | /data`);
  await quotas.releaseRootfs('c1', dir);
  assert.equal(calls.at(-1), `xfs_quota | -x | -c | limit -p bhard=0k ihard=0 ${FIRST_AUTO_ID} | /data`);
  assert.deepEqual(await backend.owners(), []);
  await rm(root, { recursive: true, force: true });
});

test('ext4: setquota -P in KiB blocks and chattr -p +P', async () => {
  const { root, calls, quotas } = await setup({ type: 'ext4', mountpoint: '/var/lib/joey' });
  const dir = join(root, 'vol');
  await quotas.createVolume('v', dir, { bytes: 5 * MiB + 1 });
  assert.deepEqual(calls, [
    `setquota | -P | ${FIRST_AUTO_ID} | 0 | 5121 | 0 | 0 | /var/lib/joey`,
    `chattr | -p | ${FIRST_AUTO_ID} | +P | ${dir}`,
  ]);
  await rm(root, { recursive: true, force: true });
});

test('ids: allocated unique and recorded, explicit ones used as given and not shared, freed on removal', async () => {
  const { root, backend, quotas } = await setup({ type: 'xfs', mountpoint: '/data' });
  await Promise.all([1, 2, 3].map((n) => quotas.limitRootfs(`c${n}`, join(root, `s${n}`), { bytes: 20 * MiB })));
  const ids = await Promise.all([1, 2, 3].map((n) => backend.projectId(`containers/c${n}`)));
  assert.deepEqual([...ids].sort(), [FIRST_AUTO_ID, FIRST_AUTO_ID + 1, FIRST_AUTO_ID + 2]);
  await quotas.limitRootfs('x', join(root, 'x'), { bytes: 20 * MiB }, 4242);
  assert.equal(await backend.projectId('containers/x'), 4242);
  assert.equal(await quotas.rootfsProjectId('x'), 4242, 'what create writes back to Config.QuotaID');
  assert.equal((await readFile(join(root, 'quota', 'project', 'containers', 'x.id'), 'utf8')).trim(), '4242');
  await assert.rejects(quotas.limitRootfs('y', join(root, 'y'), { bytes: 20 * MiB }, 4242), { kind: 'conflict', message: /4242 is already used by containers\/x/ });
  await quotas.releaseRootfs('c1', join(root, 's1'));
  await quotas.limitRootfs('c4', join(root, 's4'), { bytes: 20 * MiB });
  assert.equal(await backend.projectId('containers/c4'), ids[0], 'a freed id is handed out again');
  // The sweep finds areas by their recorded ids.
  assert.deepEqual(await quotas.sweep({ containers: new Set(['c2', 'c3', 'c4']), volumes: new Set() }), ['containers/x']);
  await rm(root, { recursive: true, force: true });
});

test('a failed command undoes the claim; xfs_quota complaints on stderr count as failures', async () => {
  const root = await mkdtemp(join(tmpdir(), 'joey-pquota-unit-'));
  const { sys } = recording('xfs_quota: cannot set limits: Function not implemented');
  const backend = new ProjectBackend({ root: join(root, 'q'), fs: { type: 'xfs', mountpoint: '/data' }, sys });
  await assert.rejects(backend.create('containers/a', join(root, 'a'), { bytes: 20 * MiB }), /Function not implemented/);
  assert.deepEqual(await backend.owners(), []);
  await assert.rejects(sys.assign({ type: 'xfs', mountpoint: '/data' }, '/a b', 1), { kind: 'invalid' });
  await rm(root, { recursive: true, force: true });
});
