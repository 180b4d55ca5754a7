import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ImageConfig } from '../../images/types.ts';
import { DEFAULT_PATH, overlayEnv, resolveArgs, resolveCwd, resolveEnv, withInit } from './process.ts';

describe('process', () => {
  test('Entrypoint and Cmd resolve as in Docker', () => {
    const img: ImageConfig = { Entrypoint: ['/entry'], Cmd: ['img-cmd'] };
    const imgCmdOnly: ImageConfig = { Cmd: ['sh'] };
    const cases: Array<[string, ImageConfig | undefined, ImageConfig, string[]]> = [
      ['image defaults', img, {}, ['/entry', 'img-cmd']],
      ['container Cmd replaces image Cmd, keeps Entrypoint', img, { Cmd: ['a', 'b'] }, ['/entry', 'a', 'b']],
      ['container Entrypoint drops image Cmd', img, { Entrypoint: ['/other'] }, ['/other']],
      ['container Entrypoint + Cmd', img, { Entrypoint: ['/other', '-x'], Cmd: ['y'] }, ['/other', '-x', 'y']],
      ['--entrypoint "" removes image Entrypoint, keeps image Cmd', img, { Entrypoint: [''] }, ['img-cmd']],
      ['empty Entrypoint list acts the same', img, { Entrypoint: [] }, ['img-cmd']],
      ['--entrypoint "" with a Cmd', img, { Entrypoint: [''], Cmd: ['ls'] }, ['ls']],
      ['null Entrypoint inherits the image one', img, { Entrypoint: null, Cmd: ['c'] }, ['/entry', 'c']],
      ['empty container Cmd falls back to image Cmd', imgCmdOnly, { Cmd: [] }, ['sh']],
      ['no image config', undefined, { Cmd: ['/bin/true'] }, ['/bin/true']],
    ];
    for (const [name, image, config, want] of cases) assert.deepEqual(resolveArgs(image, config), want, name);
  });

  test('no command at all is an invalid error', () => {
    assert.throws(() => resolveArgs({}, {}), { kind: 'invalid', message: /No command specified/ });
    assert.throws(() => resolveArgs({ Entrypoint: ['/e'] }, { Entrypoint: [''] }), { kind: 'invalid', message: /No command specified/ });
  });

  test('env: defaults first, image env overlaid by container env', () => {
    const env = resolveEnv({ Env: ['PATH=/img/bin', 'A=img', 'B=img'] }, { Env: ['B=ctr', 'C=ctr'], Tty: true }, 'box');
    assert.deepEqual(env, ['PATH=/img/bin', 'HOSTNAME=box', 'TERM=xterm', 'A=img', 'B=ctr', 'C=ctr']);
    assert.deepEqual(resolveEnv({}, {}, 'h'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h']);
    // The container may override HOSTNAME and TERM, in place.
    assert.deepEqual(resolveEnv({}, { Env: ['TERM=vt100', 'HOSTNAME=x'], Tty: true }, 'h'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=x', 'TERM=vt100']);
    // Values keep everything after the first "=".
    assert.deepEqual(resolveEnv({}, { Env: ['Q=a=b'] }, 'h').at(-1), 'Q=a=b');
  });

  test('env: a bare KEY removes it', () => {
    assert.deepEqual(overlayEnv(['A=1', 'B=2'], ['A']), ['B=2']);
    assert.deepEqual(resolveEnv({ Env: ['X=1'] }, { Env: ['X'] }, 'h'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h']);
  });

  test('env: an empty name is refused', () => {
    assert.throws(() => resolveEnv({}, { Env: ['=oops'] }, 'h'), { kind: 'invalid', message: /"=oops"/ });
  });

  test('cwd: WorkingDir, else the image one, else /', () => {
    assert.equal(resolveCwd({ WorkingDir: '/img' }, { WorkingDir: '/ctr/' }), '/ctr');
    assert.equal(resolveCwd({ WorkingDir: '/img//x' }, {}), '/img/x');
    assert.equal(resolveCwd({}, {}), '/');
    assert.throws(() => resolveCwd({}, { WorkingDir: 'rel' }), { kind: 'invalid', message: /'rel' is invalid, it needs to be an absolute path/ });
  });

  test('init runs as PID 1 before the command', () => {
    assert.deepEqual(withInit(['sh'], true, '/usr/bin/catatonit'), ['/sbin/docker-init', '--', 'sh']);
    assert.deepEqual(withInit(['sh'], false, '/usr/bin/catatonit'), ['sh']);
    assert.throws(() => withInit(['sh'], true, undefined), { kind: 'failed-precondition', message: /init/ });
  });
});
