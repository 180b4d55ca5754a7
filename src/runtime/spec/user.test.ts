import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readFileInRoot, resolveInRoot } from './rootfs-file.ts';
import type { ResolvedUser } from './types.ts';
import { resolveUser } from './user.ts';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
# a comment
web:x:1000:1000:web:/home/web:/bin/sh
`;
const GROUP = `root:x:0:
daemon:x:1:web
staff:x:50:web,other
web:x:1000:
video:x:44:
`;
// What an attacker wants the daemon to read instead.
const HOST_PASSWD = 'web:x:4444:4444:evil:/:/bin/sh\nroot:x:0:4444::/:/bin/sh\n';

let dir: string;
let rootfs: string;
let outside: string;

function makeRootfs(name: string, setup: (etc: string) => void): string {
  const r = join(dir, name);
  mkdirSync(join(r, 'etc'), { recursive: true });
  setup(join(r, 'etc'));
  return r;
}

describe('user resolution', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'joey-spec-user-'));
    outside = join(dir, 'host');
    mkdirSync(outside);
    writeFileSync(join(outside, 'shadow'), HOST_PASSWD);
    writeFileSync(join(outside, 'passwd'), HOST_PASSWD);
    writeFileSync(join(outside, 'group'), 'evil:x:4444:web\n');
    rootfs = makeRootfs('good', (etc) => {
      writeFileSync(join(etc, 'passwd'), PASSWD);
      writeFileSync(join(etc, 'group'), GROUP);
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('specs resolve as runc/Docker resolve them', async () => {
    const u = (uid: number, gid: number, additionalGids: number[], home = '/'): ResolvedUser => ({ uid, gid, additionalGids, home });
    const cases: Array<[string, string[] | undefined, ResolvedUser]> = [
      ['', undefined, u(0, 0, [0], '/root')],
      ['root', undefined, u(0, 0, [0], '/root')],
      ['web', undefined, u(1000, 1000, [1000, 1, 50], '/home/web')],
      ['1000', undefined, u(1000, 1000, [1000, 1, 50], '/home/web')],
      ['1234', undefined, u(1234, 0, [0])],
      ['web:staff', undefined, u(1000, 50, [50], '/home/web')], // a named group: no groups from /etc/group
      ['web:777', undefined, u(1000, 777, [777], '/home/web')],
      ['1234:5678', undefined, u(1234, 5678, [5678])], // docker's `id`: groups=5678,
      ['daemon:web', undefined, u(1, 1000, [1000], '/usr/sbin')],
      ['web', ['video', '4242', 'staff'], u(1000, 1000, [1000, 1, 50, 44, 4242], '/home/web')],
      ['1234', ['44'], u(1234, 0, [0, 44])],
      ['65534:65534', ['1234'], u(65534, 65534, [65534, 1234])], // id -G: 65534 1234,
    ];
    for (const [spec, groupAdd, want] of cases) assert.deepEqual(await resolveUser(rootfs, spec, groupAdd), want, JSON.stringify(spec));
  });

  test('unknown names are invalid errors with Docker wording', async () => {
    const cases: Array<[string, string[] | undefined, RegExp]> = [
      ['nobody', undefined, /^unable to find user nobody: no matching entries in passwd file$/],
      ['nobody:staff', undefined, /unable to find user nobody/],
      ['web:nogroup', undefined, /^unable to find group nogroup: no matching entries in group file$/],
      ['web', ['nope'], /unable to find group nope/],
      ['-1', undefined, /range 0-2147483647/],
      ['0:99999999999', undefined, /range 0-2147483647/],
    ];
    for (const [spec, groupAdd, message] of cases) {
      await assert.rejects(resolveUser(rootfs, spec, groupAdd), { kind: 'invalid', message }, spec);
    }
  });

  test('a rootfs without /etc/passwd still takes numeric ids', async () => {
    const bare = makeRootfs('bare', () => undefined);
    assert.deepEqual(await resolveUser(bare, '', undefined), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
    assert.deepEqual(await resolveUser(bare, '10:20', ['30']), { uid: 10, gid: 20, additionalGids: [20, 30], home: '/' });
    await assert.rejects(resolveUser(bare, 'web', undefined), { kind: 'invalid', message: /unable to find user web: no matching entries in passwd file/ });
  });

  test('symlinks never lead out of the rootfs', async () => {
    const attacks: Array<[string, (etc: string) => void]> = [
      ['absolute link to a host file', (etc) => symlinkSync(join(outside, 'shadow'), join(etc, 'passwd'))],
      ['relative link climbing out', (etc) => symlinkSync('../../../../../../../../..' + join(outside, 'shadow'), join(etc, 'passwd'))],
      ['chain of links', (etc) => {
        symlinkSync('step', join(etc, 'passwd'));
        symlinkSync(join(outside, 'shadow'), join(etc, 'step'));
      }],
    ];
    for (const [name, setup] of attacks) {
      const r = makeRootfs(name.replaceAll(' ', '-'), setup);
      // Read as if the rootfs were "/": the host file is not there, so "web" is unknown.
      await assert.rejects(resolveUser(r, 'web', undefined), { kind: 'invalid', message: /unable to find user web/ }, name);
      assert.equal(await readFileInRoot(r, '/etc/passwd'), undefined, name);
    }

    // /etc itself replaced by a link to a host directory.
    const r = join(dir, 'etc-link');
    mkdirSync(r);
    symlinkSync(outside, join(r, 'etc'));
    await assert.rejects(resolveUser(r, 'web', undefined), { kind: 'invalid', message: /unable to find user web/ });
    assert.deepEqual(await resolveUser(r, '', undefined), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
  });

  test('links inside the rootfs are followed within it', async () => {
    const r = makeRootfs('inner-link', (etc) => {
      mkdirSync(join(etc, '..', 'usr', 'lib'), { recursive: true });
      writeFileSync(join(etc, '..', 'usr', 'lib', 'passwd'), PASSWD);
      symlinkSync('/usr/lib/passwd', join(etc, 'passwd')); // absolute: means the rootfs's /usr
      symlinkSync('../usr/lib/../lib/passwd', join(etc, 'group-ish'));
    });
    assert.equal((await resolveUser(r, 'web', undefined)).uid, 1000);
    assert.equal(await readFileInRoot(r, '/etc/group-ish'), PASSWD);
    assert.equal(await resolveInRoot(r, '/../../etc/../etc/passwd'), join(r, 'usr/lib/passwd'));
  });

  test('a FIFO or a directory at /etc/passwd is refused without hanging', async () => {
    const r = makeRootfs('fifo', (etc) => {
      execFileSync('mkfifo', [join(etc, 'passwd')]);
      mkdirSync(join(etc, 'group'));
    });
    await assert.rejects(readFileInRoot(r, '/etc/passwd'), { kind: 'invalid', message: /not a regular file/ });
    await assert.rejects(readFileInRoot(r, '/etc/group'), { kind: 'invalid', message: /not a regular file/ });
  });

  test('a link loop is an error, not a hang', async () => {
    const r = makeRootfs('loop', (etc) => {
      symlinkSync('b', join(etc, 'a'));
      symlinkSync('a', join(etc, 'b'));
      symlinkSync('a', join(etc, 'passwd'));
    });
    await assert.rejects(resolveUser(r, 'web', undefined), { kind: 'invalid', message: /too many levels of symbolic links/ });
  });
});
