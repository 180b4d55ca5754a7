// OCI hooks against real runc: per-container hooks (HostConfig.OciHooks, the
// joey CLI's --oci-hook) and daemon-wide ones (--hooks-dir files). The hooks
// are small sh scripts written here; each appends its stage and the OCI state
// it reads on stdin to a log file, which the test reads from the host.
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { removeAllContainers, startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import { JOEYD_BIN, type Daemon } from './lib/daemon.ts';
import { makeTempDir, removeDir, run, waitFor, type CmdOptions, type CmdResult } from './lib/proc.ts';
import { busyboxInitTar } from './lib/rich-images.ts';

let cd: ContainerDaemon | undefined;
let d: Daemon;
let work: string;
/** Scripts and logs; bound into containers at the same path (startContainer
 * hooks run inside the container and write there too). */
let hooks: string;
const IMAGE = 'hooks-busybox:latest';

before(async () => {
  work = await makeTempDir('joey-it-hooks-');
  hooks = join(work, 'hooks');
  await mkdir(hooks, { recursive: true });
  await script('record.sh', `{ printf '%s ' "$1"; cat; echo; } >> "$(dirname "$0")/log-$2"`);
  await script('fail.sh', 'cat >/dev/null; echo "checking the license server..."; echo "license server unreachable: refusing to start" >&2; exit 3');
  await script('fail-stop.sh', 'cat >/dev/null; echo "could not release the lease" >&2; exit 4');
  // Daemon-wide hooks: two dirs, the second replacing a file of the first by name.
  const dir1 = join(work, 'hooks.d');
  const dir2 = join(work, 'hooks2.d');
  await mkdir(dir1);
  await mkdir(dir2);
  const hookFile = (when: object, args: string[], stages: string[], path = join(hooks, 'record.sh')) =>
    JSON.stringify({ version: '1.0.0', hook: { path, args: [path, ...args] }, when, stages });
  await writeFile(join(dir1, '10-annotated.json'), hookFile({ annotations: { '^io\\.test\\.hook$': '^yes$' } }, ['dir-annotated', 'dir'], ['prestart', 'poststop']));
  await writeFile(join(dir1, '20-command.json'), hookFile({ commands: ['^/bin/never-run$'] }, ['dir-command', 'dir'], ['prestart']));
  // If this one applied, every container would fail to start.
  await writeFile(join(dir1, '30-replaced.json'), hookFile({ always: true }, [], ['createRuntime'], '/nonexistent/hook'));
  await writeFile(join(dir2, '30-replaced.json'), hookFile({ annotations: { 'io.test.replaced': '.*' } }, ['dir-replaced', 'dir'], ['createRuntime']));
  await writeFile(join(dir2, '40-failing.json'), JSON.stringify({ version: '1.0.0', hook: { path: join(hooks, 'fail.sh') }, when: { annotations: { 'io.test.fail': '^1$' } }, stages: ['createRuntime'] }));
  await writeFile(join(dir2, 'README'), 'not a hook file: ignored');
  cd = await startContainerDaemon('hooks', { args: ['--hooks-dir', dir1, '--hooks-dir', dir2] });
  d = cd.d;
  const tar = await busyboxInitTar(work);
  await d.dockerOk(['import', '--change', 'CMD ["sh"]', tar, IMAGE], { timeoutMs: 60_000 });
});

after(async () => {
  await teardownContainerDaemon(cd);
  if (work) await removeDir(work);
});

afterEach(async () => {
  if (d?.running) await removeAllContainers(d);
});

async function script(name: string, body: string): Promise<void> {
  await writeFile(join(hooks, name), `#!/bin/sh\n${body}\n`);
  await chmod(join(hooks, name), 0o755);
}

function it(name: string, fn: () => Promise<void>, timeoutMs = 60_000): void {
  test(name, { timeout: timeoutMs }, fn);
}

let counter = 0;
const nm = (what: string): string => `hooks-${what}-${++counter}`;
const dk = (args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.docker(args, { timeoutMs: 60_000, ...opts });
const dkOk = (args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.dockerOk(args, { timeoutMs: 60_000, ...opts });

async function inspect(name: string): Promise<any> {
  const [c] = await d.dockerJson<any[]>(['container', 'inspect', name], { timeoutMs: 30_000 });
  return c;
}

interface Entry {
  stage: string;
  state?: { id: string; status: string; pid?: number; bundle: string; annotations?: Record<string, string> };
}

/** The lines of log-<tag>: "STAGE {state json}" or "STAGE" alone (the container's own process). */
async function entries(tag: string): Promise<Entry[]> {
  const text = await readFile(join(hooks, `log-${tag}`), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => {
    const i = l.indexOf(' ');
    const stage = i < 0 ? l : l.slice(0, i);
    const rest = i < 0 ? '' : l.slice(i + 1).trim();
    return rest ? { stage, state: JSON.parse(rest) } : { stage };
  });
}
const stages = async (tag: string): Promise<string[]> => (await entries(tag)).map((e) => e.stage);

/** Each stage calls record.sh with its name and the log's tag. */
function allStages(tag: string): Record<string, Array<{ path: string; args: string[] }>> {
  const h = (stage: string) => [{ path: join(hooks, 'record.sh'), args: [join(hooks, 'record.sh'), stage, tag] }];
  return Object.fromEntries(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].map((s) => [s, h(s)]));
}

async function create(name: string, body: Record<string, unknown>): Promise<string> {
  const r = await d.api('POST', `/containers/create?name=${name}`, body);
  assert.equal(r.status, 201, r.text);
  return r.json<{ Id: string }>().Id;
}

describe('hooks: per container (HostConfig.OciHooks)', () => {
  it('every stage runs, in runc\'s order, with the container\'s state on stdin; poststop when it exits by itself', async () => {
    const name = nm('order');
    const tag = name;
    const id = await create(name, {
      Image: IMAGE,
      // The process writes its own line: the hooks before and after it show up around it.
      Cmd: ['sh', '-c', `echo process >> ${hooks}/log-${tag}; sleep 0.3`],
      HostConfig: { NetworkMode: 'none', Binds: [`${hooks}:${hooks}`], OciHooks: allStages(tag) },
    });
    const c = await inspect(name);
    assert.deepEqual(Object.keys(c.HostConfig.OciHooks).sort(), ['createContainer', 'createRuntime', 'poststart', 'poststop', 'prestart', 'startContainer']);
    assert.deepEqual(c.HostConfig.OciHooks.prestart, [{ path: join(hooks, 'record.sh'), args: [join(hooks, 'record.sh'), 'prestart', tag] }]);
    assert.deepEqual(await stages(tag), [], 'nothing runs at create');

    await dkOk(['start', name]);
    await waitFor('the container to exit and its poststop hook to run', async () => (await stages(tag)).includes('poststop'), 20_000);
    const got = await entries(tag);
    const order = got.map((e) => e.stage);
    // runc 1.1 runs prestart, createRuntime, createContainer and poststart in
    // `runc create` (poststart before the process is let go), startContainer
    // in the container just before the process, poststop at `runc delete`.
    assert.deepEqual(order, ['prestart', 'createRuntime', 'createContainer', 'poststart', 'startContainer', 'process', 'poststop'], JSON.stringify(got, null, 1));
    for (const e of got.filter((x) => x.stage !== 'process')) {
      assert.equal(e.state?.id, id, `${e.stage} got the container's id`);
      assert.equal(e.state?.annotations?.['io.joey.container.id'], id, `${e.stage} got the spec's annotations`);
    }
    assert.equal(got.find((e) => e.stage === 'createRuntime')!.state!.status, 'creating');
    assert.equal(got.find((e) => e.stage === 'poststop')!.state!.status, 'stopped');
    assert.ok(got.find((e) => e.stage === 'prestart')!.state!.pid! > 0, 'prestart sees the init pid');
    const s = (await inspect(name)).State;
    assert.equal(s.Status, 'exited');
    assert.equal(s.ExitCode, 0);
    assert.equal(s.Error, '');

    // A second start runs them all again.
    await dkOk(['start', name]);
    await waitFor('the second poststop', async () => (await stages(tag)).filter((x) => x === 'poststop').length === 2, 20_000);
  });

  it('poststop runs on stop and on rm -f of a running container', async () => {
    for (const how of ['stop', 'rm']) {
      const name = nm(how);
      await create(name, { Image: IMAGE, Cmd: ['sleep', '1000'], HostConfig: { NetworkMode: 'none', OciHooks: { poststop: allStages(name).poststop } } });
      await dkOk(['start', name]);
      assert.deepEqual(await stages(name), []);
      await dkOk(how === 'stop' ? ['stop', '-t', '1', name] : ['rm', '-f', name]);
      await waitFor(`poststop after ${how}`, async () => (await stages(name)).includes('poststop'), 20_000);
      assert.deepEqual(await stages(name), ['poststop']);
    }
  });

  it('a failing createRuntime hook fails the start with its message: State.Error, a die event, nothing left running', async () => {
    const name = nm('fail');
    const since = Math.floor(Date.now() / 1000) - 1;
    await create(name, { Image: IMAGE, Cmd: ['sleep', '1000'], HostConfig: { NetworkMode: 'none', OciHooks: { createRuntime: [{ path: join(hooks, 'fail.sh') }] } } });
    const r = await dk(['start', name]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /license server unreachable: refusing to start/, r.stderr);
    const s = (await inspect(name)).State;
    assert.equal(s.Running, false);
    assert.equal(s.Pid, 0);
    assert.match(s.Error, /license server unreachable/);
    const ev = await dkOk(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${name}`, '--filter', 'event=die', '--format', '{{json .Actor.Attributes}}']);
    const die = ev.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(die.length, 1, ev.stdout);
    assert.match(die[0].error, /license server unreachable/);
    assert.equal((await dk(['ps', '-q', '--filter', `name=${name}`])).stdout.trim(), '');
  });

  it('a failing poststart hook fails the start too (runc 1.1 runs it in `runc create`), and the process never runs', async () => {
    const name = nm('poststart-fail');
    await create(name, {
      Image: IMAGE,
      Cmd: ['sh', '-c', `echo process >> ${hooks}/log-${name}`],
      HostConfig: { NetworkMode: 'none', Binds: [`${hooks}:${hooks}`], OciHooks: { poststart: [{ path: join(hooks, 'fail.sh') }] } },
    });
    const r = await dk(['start', name]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /license server unreachable/);
    const s = (await inspect(name)).State;
    assert.equal(s.Running, false);
    assert.match(s.Error, /license server unreachable/);
    assert.deepEqual(await stages(name), []);
  });

  it('a failing startContainer hook (run inside the container) ends the container before its process runs', async () => {
    const name = nm('start-fail');
    await create(name, {
      Image: IMAGE,
      Cmd: ['sh', '-c', `echo process >> ${hooks}/log-${name}`],
      // /bin/false of the image: startContainer paths are the container's.
      HostConfig: { NetworkMode: 'none', Binds: [`${hooks}:${hooks}`], OciHooks: { startContainer: [{ path: '/bin/false' }] } },
    });
    const r = await dk(['start', '-a', name]);
    const s = (await inspect(name)).State;
    assert.equal(s.Running, false, r.stderr);
    assert.notEqual(s.ExitCode, 0, JSON.stringify({ r, s }));
    assert.deepEqual(await stages(name), [], 'the process did not run');
  });

  it('a failing poststop hook shows in State.Error; the container still ends exited normally', async () => {
    const name = nm('poststop-fail');
    await create(name, { Image: IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: 'none', OciHooks: { poststop: [{ path: join(hooks, 'fail-stop.sh') }] } } });
    await dkOk(['start', name]);
    const s = await waitFor('the exit to be recorded', async () => {
      const st = (await inspect(name)).State;
      return st.Status === 'exited' ? st : undefined;
    }, 20_000);
    assert.equal(s.ExitCode, 0);
    assert.match(s.Error, /could not release the lease/);
    assert.match(d.log(), /could not release the lease/, 'the failure is in the daemon log');
    // Nothing of runc's is left behind: it starts again.
    await dkOk(['start', name]);
  });

  it('bad hooks are refused at create with a 400 naming the problem, and nothing is created', async () => {
    await writeFile(join(hooks, 'not-exec.sh'), '#!/bin/sh\n');
    await chmod(join(hooks, 'not-exec.sh'), 0o644);
    const cases: Array<[unknown, RegExp]> = [
      [{ prestop: [{ path: join(hooks, 'record.sh') }] }, /unknown hook stage "prestop"/],
      [{ prestart: [{ path: 'record.sh' }] }, /path "record.sh" is not absolute/],
      [{ prestart: [{ path: join(hooks, 'missing.sh') }] }, /missing\.sh does not exist/],
      [{ poststop: [{ path: join(hooks, 'not-exec.sh') }] }, /not-exec\.sh is not executable/],
      [{ prestart: [{ path: hooks }] }, /is not a regular file/],
      [{ prestart: [{ path: join(hooks, 'record.sh'), timeout: -1 }] }, /timeout must be a positive number/],
      [{ prestart: { path: join(hooks, 'record.sh') } }, /OciHooks\.prestart: expected a list/],
    ];
    for (const [OciHooks, re] of cases) {
      const r = await d.api('POST', `/containers/create?name=${nm('bad')}`, { Image: IMAGE, HostConfig: { OciHooks } });
      assert.equal(r.status, 400, `${JSON.stringify(OciHooks)}: ${r.text}`);
      assert.match(r.json().message, re);
    }
    assert.equal((await dkOk(['ps', '-aq'])).stdout.trim(), '', 'no container was created');
  });

  it('the joey CLI: --oci-hook STAGE=PATH and --oci-hooks-file', async () => {
    const name = nm('cli');
    const file = join(work, `${name}.json`);
    await writeFile(file, JSON.stringify({ prestart: [{ path: join(hooks, 'record.sh'), args: ['record.sh', 'from-file', name] }] }));
    await d.joeyOk(['create', '--name', name, '--network', 'none', '--oci-hooks-file', file, '--oci-hook', `poststop=${join(hooks, 'record.sh')}`, IMAGE, 'true'], { timeoutMs: 60_000 });
    const hc = (await inspect(name)).HostConfig.OciHooks;
    assert.deepEqual(hc.poststop, [{ path: join(hooks, 'record.sh') }]);
    assert.equal(hc.prestart[0].args[1], 'from-file');
    const bad = await d.joey(['create', '--oci-hook', `prestop=${join(hooks, 'record.sh')}`, IMAGE, 'true'], { timeoutMs: 60_000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown hook stage "prestop"/);
    const run1 = await d.joey(['run', '--rm', '--network', 'none', '--oci-hook', `createRuntime=${join(hooks, 'fail.sh')}`, IMAGE, 'true'], { timeoutMs: 60_000 });
    assert.notEqual(run1.code, 0);
    assert.match(run1.stderr, /license server unreachable/);
  });
});

describe('hooks: --hooks-dir', () => {
  it('a file matching an annotation applies; one matching another command does not; a later dir replaces a file by name', async () => {
    const name = nm('annotated');
    const r = await dkOk(['run', '--name', name, '--network', 'none', '--annotation', 'io.test.hook=yes', '--annotation', 'io.test.replaced=1', IMAGE, 'true']);
    assert.equal(r.code, 0);
    const id = (await inspect(name)).Id;
    await waitFor('poststop of the annotated hook', async () => (await stages('dir')).includes('dir-annotated') && (await stages('dir')).filter((s) => s === 'dir-annotated').length === 2, 20_000);
    const got = await entries('dir');
    assert.deepEqual(got.map((e) => e.stage), ['dir-annotated', 'dir-replaced', 'dir-annotated'], 'prestart (10-annotated), createRuntime (30-replaced of the second dir), poststop; 20-command never');
    for (const e of got) assert.equal(e.state?.id, id);

    // Without the annotations none of them applies (and the replaced always-hook never did).
    const other = nm('plain');
    await dkOk(['run', '--name', other, '--network', 'none', '--annotation', 'io.test.hook=no', IMAGE, 'true']);
    await dkOk(['rm', other]);
    assert.equal((await entries('dir')).length, 3);
  });

  it('a hook file dropped into a dir while joeyd runs applies to the next container; removed, it no longer does', async () => {
    const file = join(work, 'hooks2.d', '50-late.json');
    const late = join(hooks, 'record.sh');
    await writeFile(file, JSON.stringify({ version: '1.0.0', hook: { path: late, args: [late, 'dir-late', 'late'] }, when: { annotations: { '^io\\.test\\.late$': '^1$' } }, stages: ['prestart'] }));
    try {
      await dkOk(['run', '--rm', '--network', 'none', '--annotation', 'io.test.late=1', IMAGE, 'true']);
      assert.deepEqual((await entries('late')).map((e) => e.stage), ['dir-late']);
    } finally {
      await rm(file, { force: true });
    }
    await dkOk(['run', '--rm', '--network', 'none', '--annotation', 'io.test.late=1', IMAGE, 'true']);
    assert.equal((await entries('late')).length, 1, 'not run once its file is gone');
  });

  it('docker run fails with a failing createRuntime hook\'s message; inspect shows it in State.Error', async () => {
    const name = nm('dir-fail');
    const r = await dk(['run', '--name', name, '--network', 'none', '--annotation', 'io.test.fail=1', IMAGE, 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /license server unreachable: refusing to start/, r.stderr);
    const s = (await inspect(name)).State;
    assert.match(s.Error, /license server unreachable/);
    assert.equal(s.Running, false);
  });

  it('joeyd refuses to start on a hook file it cannot read, naming the file and the field', async () => {
    const dir = await makeTempDir('joey-it-badhooks-');
    try {
      await mkdir(join(dir, 'hooks.d'));
      await writeFile(join(dir, 'hooks.d', 'bad.json'), JSON.stringify({ version: '1.0.0', hook: { path: '/bin/true' }, when: { always: true }, stages: ['prestop'] }));
      await writeFile(join(dir, 'daemon.json'), '{}');
      const r = await run(process.execPath, [JOEYD_BIN, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${join(dir, 'j.sock')}`, '--pidfile', join(dir, 'j.pid'), '--config-file', join(dir, 'daemon.json'), '--bridge', 'none', '--hooks-dir', join(dir, 'hooks.d')], { timeoutMs: 30_000 });
      assert.notEqual(r.code, 0);
      // joeyd logs JSON lines: the error is in one's `err`.
      const errs = r.stderr.split('\n').map((l) => {
        try {
          return String(JSON.parse(l).err ?? '');
        } catch {
          return l;
        }
      });
      assert.ok(errs.some((e) => /bad\.json: unknown stage "prestop"/.test(e)), r.stderr);
    } finally {
      await removeDir(dir);
    }
  });
});
