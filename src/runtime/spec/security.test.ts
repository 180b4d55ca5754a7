import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, parseSecurityOpts, seccompFor, systemPaths } from './security.ts';

const HOST = { arch: 'x64', kernel: '6.1.0' };
const PROFILE = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };

describe('security options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'joey-spec-sec-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('no-new-privileges forms', async () => {
    const cases: Array<[string[], boolean]> = [
      [[], false],
      [['no-new-privileges'], true],
      [['no-new-privileges=true'], true],
      [['no-new-privileges:true'], true], // deprecated separator, still accepted by dockerd
      [['no-new-privileges=1'], true],
      [['no-new-privileges', 'no-new-privileges=false'], false],
    ];
    for (const [opts, want] of cases) assert.equal((await parseSecurityOpts(opts)).noNewPrivileges, want, opts.join(' '));
    await assert.rejects(parseSecurityOpts(['no-new-privileges=maybe']), { kind: 'invalid', message: /"maybe" is not a boolean/ });
  });

  test('seccomp: unconfined, builtin, inline JSON, a file', async () => {
    assert.equal((await parseSecurityOpts(['seccomp=unconfined'])).seccomp, 'unconfined');
    assert.equal((await parseSecurityOpts(['seccomp:unconfined'])).seccomp, 'unconfined');
    assert.equal((await parseSecurityOpts(['seccomp=builtin'])).seccomp, 'default');
    const inline = (await parseSecurityOpts([`seccomp=${JSON.stringify(PROFILE)}`])).seccomp;
    assert.deepEqual(inline, { profile: PROFILE, from: 'the --security-opt value' });
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify(PROFILE));
    assert.deepEqual((await parseSecurityOpts([`seccomp=${file}`])).seccomp, { profile: PROFILE, from: file });
  });

  test('seccomp: bad values are invalid errors', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, 'root:x:0:0 secret');
    const cases: Array<[string, RegExp]> = [
      [`seccomp=${join(dir, 'missing.json')}`, /opening seccomp profile \(.*missing\.json\) failed: ENOENT/],
      [`seccomp=${bad}`, /^seccomp profile .*bad\.json is not valid JSON$/], // no file content in the message
      ['seccomp=relative.json', /seccomp takes "unconfined", "builtin", an absolute path or a JSON profile/],
      ['seccomp={nope', /not valid JSON/],
    ];
    for (const [opt, message] of cases) await assert.rejects(parseSecurityOpts([opt]), { kind: 'invalid', message }, opt);
  });

  test('unknown options are invalid errors naming them; apparmor and label are accepted', async () => {
    await assert.rejects(parseSecurityOpts(['foo=bar']), { kind: 'invalid', message: /invalid --security-opt "foo=bar": unknown option "foo"/ });
    await assert.rejects(parseSecurityOpts(['justaword']), { kind: 'invalid', message: /invalid --security-opt "justaword"/ });
    await assert.rejects(parseSecurityOpts(['systempaths=confined']), { kind: 'invalid', message: /systempaths/ });
    const ok = await parseSecurityOpts(['apparmor=docker-default', 'label=disable', 'label:type:svirt_t', 'disable']);
    assert.deepEqual(ok, { seccomp: 'default', noNewPrivileges: false, systemPathsUnconfined: false, writableCgroups: false });
    assert.equal((await parseSecurityOpts(['writable-cgroups=true'])).writableCgroups, true);
  });

  test('masked and read-only paths', async () => {
    const plain = await parseSecurityOpts([]);
    assert.deepEqual(systemPaths({}, plain), { maskedPaths: DEFAULT_MASKED_PATHS, readonlyPaths: DEFAULT_READONLY_PATHS });
    assert.ok(DEFAULT_MASKED_PATHS.includes('/proc/kcore') && DEFAULT_READONLY_PATHS.includes('/proc/sys'));
    assert.deepEqual(systemPaths({ Privileged: true }, plain), { maskedPaths: [], readonlyPaths: [] });
    assert.deepEqual(systemPaths({}, await parseSecurityOpts(['systempaths=unconfined'])), { maskedPaths: [], readonlyPaths: [] });
    assert.deepEqual(systemPaths({ MaskedPaths: ['/proc/x'], ReadonlyPaths: [] }, plain), { maskedPaths: ['/proc/x'], readonlyPaths: [] });
    assert.throws(() => systemPaths({ MaskedPaths: ['proc/x'] }, plain), { kind: 'invalid', message: /MaskedPaths: "proc\/x" is not an absolute path/ });
  });

  test('which seccomp profile applies', async () => {
    const plain = await parseSecurityOpts([]);
    assert.equal(seccompFor({}, plain, PROFILE, [], HOST)?.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(seccompFor({}, plain, undefined, [], HOST), undefined);
    assert.equal(seccompFor({ Privileged: true }, plain, PROFILE, [], HOST), undefined);
    assert.equal(seccompFor({}, await parseSecurityOpts(['seccomp=unconfined']), PROFILE, [], HOST), undefined);
    const custom = await parseSecurityOpts([`seccomp=${JSON.stringify({ ...PROFILE, defaultAction: 'SCMP_ACT_LOG' })}`]);
    assert.equal(seccompFor({}, custom, PROFILE, [], HOST)?.defaultAction, 'SCMP_ACT_LOG');
    const broken = await parseSecurityOpts(['seccomp={"syscalls":[]}']);
    assert.throws(() => seccompFor({}, broken, PROFILE, [], HOST), { kind: 'invalid', message: /seccomp profile from the --security-opt value: seccomp profile has no defaultAction/ });
  });
});
