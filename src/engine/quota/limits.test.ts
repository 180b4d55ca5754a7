import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkQuotaId, formatSize, limitForMount, parseQuotaLimit, parseQuotaSize, planDiskQuota } from './limits.ts';
import { backendFor } from './select.ts';

const MiB = 1024 * 1024;

describe('disk quota sizes and forms', () => {
  test('sizes: bytes or k/m/g/t (powers of 1024), with an optional b/ib', () => {
    for (const [s, n] of [['1048576', MiB], ['20m', 20 * MiB], ['20M', 20 * MiB], ['10g', 10 * 1024 * MiB], ['10GiB', 10 * 1024 * MiB], ['10gb', 10 * 1024 * MiB], ['1.5g', 1536 * MiB], ['512k', 512 * 1024], ['1t', 1024 ** 4]] as const) {
      assert.equal(parseQuotaSize(s), n, s);
    }
    for (const s of ['', 'm', '10x', '-5m', '0', '0m', '10 mb extra', '1e3']) assert.throws(() => parseQuotaSize(s), { kind: 'invalid' }, s);
  });

  test('a limit may carry an inode count after a colon', () => {
    assert.deepEqual(parseQuotaLimit('20m'), { bytes: 20 * MiB });
    assert.deepEqual(parseQuotaLimit('20m:5000'), { bytes: 20 * MiB, inodes: 5000 });
    for (const s of ['20m:', '20m:0', '20m:-1', '20m:x', '20m:5:6']) assert.throws(() => parseQuotaLimit(s), { kind: 'invalid' }, s);
  });

  test('PouchContainer forms: a bare size is the rootfs, /path a volume, .* each of them', () => {
    assert.equal(planDiskQuota(undefined), undefined);
    assert.equal(planDiskQuota({}), undefined);
    assert.deepEqual(planDiskQuota('10g')?.rootfs, { bytes: 10 * 1024 * MiB });
    const p = planDiskQuota({ '/': '10g', '/data/': '5g', '.*': '1g' })!;
    assert.deepEqual(p.rootfs, { bytes: 10 * 1024 * MiB });
    assert.deepEqual(limitForMount(p, '/data'), { bytes: 5 * 1024 * MiB }, 'an explicit path beats .*');
    assert.deepEqual(limitForMount(p, '/other'), { bytes: 1024 * MiB });
    assert.deepEqual(planDiskQuota({ '.*': '1g' })?.rootfs, { bytes: 1024 * MiB }, '.* covers the rootfs too');
    assert.equal(limitForMount(planDiskQuota({ '/': '1g' })!, '/data'), undefined, 'a rootfs quota leaves volumes alone');
  });

  test('paths that are not "/", absolute or ".*" are refused', () => {
    assert.throws(() => planDiskQuota({ data: '1g' }), { kind: 'invalid', message: /invalid disk quota path "data"/ });
    assert.throws(() => planDiskQuota({ '/a/../b': '1g' }), { kind: 'invalid', message: /".." is not allowed/ });
    assert.throws(() => planDiskQuota({ '/': 'lots' }), { kind: 'invalid', message: /invalid disk quota for \/ size "lots"/ });
  });

  test('QuotaID: empty or -1 always; a project id only with project quota', () => {
    checkQuotaId(undefined, false);
    checkQuotaId('-1', false);
    assert.throws(() => checkQuotaId('1000', false), { kind: 'invalid', message: /needs project quota/ });
    checkQuotaId('1000', true);
    assert.throws(() => checkQuotaId('abc', true), { kind: 'invalid' });
  });

  test('sizes print back in the unit they fit', () => {
    assert.equal(formatSize(20 * MiB), '20m');
    assert.equal(formatSize(1536 * MiB), '1536m');
    assert.equal(formatSize(1000), '1000');
  });

  test('backend selection: btrfs qgroups on btrfs, loop images anywhere else', () => {
    assert.equal(backendFor('btrfs'), 'btrfs');
    for (const fs of ['ext4', 'xfs', 'tmpfs', 'overlay', '0x1234']) assert.equal(backendFor(fs), 'loop', fs);
  });
});
