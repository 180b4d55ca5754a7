// Usage errors, exit codes and help, as docker 28 gives them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runJoey } from './testing.ts';

const NO_DAEMON = 'unix:///nonexistent/joeyd.sock';

test('an unknown flag: message, usage line, exit 125', async () => {
  const r = await runJoey(['pull', '--bogus', 'x']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, "unknown flag: --bogus\n\nUsage:  joey pull [OPTIONS] NAME[:TAG|@DIGEST]\n\nRun 'joey pull --help' for more information\n");
  const short = await runJoey(['image', 'ls', '-x']);
  assert.equal(short.code, 125);
  assert.match(short.stderr, /^unknown shorthand flag: 'x' in -x\n\nUsage:  joey image ls \[OPTIONS\] \[REPOSITORY\[:TAG\]\]\n/);
  const global = await runJoey(['--bogus']);
  assert.equal(global.code, 125);
  assert.match(global.stderr, /^unknown flag: --bogus\n\nUsage:  joey \[OPTIONS\] COMMAND\n/);
});

test('bad flag values exit 125 too', async () => {
  const missing = await runJoey(['save', '-o']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /^flag needs an argument: --output\n/);
  const filter = await runJoey(['images', '-f', 'foo']);
  assert.equal(filter.code, 125);
  assert.match(filter.stderr, /^invalid argument "foo" for "-f, --filter" flag: bad format of filter \(expected name=value\)\n/);
  const bool = await runJoey(['images', '--quiet=maybe']);
  assert.equal(bool.code, 125);
});

test('wrong argument counts exit 1 with docker\'s wording', async () => {
  const cases: [string[], string][] = [
    [['pull'], "joey: 'joey pull' requires 1 argument"],
    [['tag', 'a'], "joey: 'joey tag' requires 2 arguments"],
    [['rmi'], "joey: 'joey rmi' requires at least 1 argument"],
    [['images', 'a', 'b'], "joey: 'joey images' requires at most 1 argument"],
    [['import'], "joey: 'joey import' requires at least 1 and at most 2 arguments"],
    [['image', 'prune', 'x'], "joey: 'joey image prune' accepts no arguments"],
  ];
  for (const [argv, msg] of cases) {
    const r = await runJoey(argv, { host: NO_DAEMON });
    assert.equal(r.code, 1, argv.join(' '));
    assert.ok(r.stderr.startsWith(msg + '\n\nUsage:  joey '), r.stderr);
  }
});

test('unknown commands', async () => {
  const top = await runJoey(['bogus']);
  assert.equal(top.code, 1);
  assert.equal(top.stderr, "joey: unknown command: joey bogus\n\nRun 'joey --help' for more information\n");
  const sub = await runJoey(['image', 'bogus']);
  assert.equal(sub.code, 1);
  assert.equal(sub.stderr, "joey: unknown command: joey image bogus\n\nUsage:  joey image COMMAND\n\nRun 'joey image --help' for more information\n");
});

test('help and version', async () => {
  const help = await runJoey(['pull', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: {2}joey pull \[OPTIONS\] NAME\[:TAG\|@DIGEST\]\n\nDownload an image from a registry\n\nAliases:\n {2}joey image pull, joey pull\n\nOptions:\n/);
  assert.match(help.stdout, /\n {6}--platform string {3}Set platform/);
  const top = await runJoey(['--help']);
  assert.match(top.stdout, /\nManagement Commands:\n {2}builder {5}Manage builds\n {2}container {3}Manage containers\n {2}image {7}Manage images\n/);
  const bare = await runJoey([]);
  assert.equal(bare.code, 0);
  assert.match(bare.stderr, /^Usage: {2}joey \[OPTIONS\] COMMAND\n/);
  const v = await runJoey(['-v']);
  assert.match(v.stdout, /^Joey version \d+\.\d+\.\d+\n$/);
});

test('no daemon: docker\'s "Cannot connect" with joey\'s names, exit 1', async () => {
  const r = await runJoey(['images'], { host: NO_DAEMON });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Cannot connect to the joey daemon at ${NO_DAEMON}. Is joeyd running?\n`);
  const flag = await runJoey(['-H', NO_DAEMON, 'images'], { host: 'unix:///other.sock' });
  assert.match(flag.stderr, /nonexistent\/joeyd\.sock/);
  const two = await runJoey(['-H', 'unix:///a', '-H', 'unix:///b', 'images']);
  assert.equal(two.stderr, 'Specify only one -H\n');
  const level = await runJoey(['-l', 'loud', 'images']);
  assert.equal(level.stderr, 'Unable to parse logging level: loud\n');
});

test('global flags in all their forms still reach the command', async () => {
  const want = `Cannot connect to the joey daemon at ${NO_DAEMON}. Is joeyd running?\n`;
  for (const argv of [
    ['-D', '-H', NO_DAEMON, 'images'],
    ['-DH', NO_DAEMON, 'image', 'ls'],
    [`-H${NO_DAEMON}`, 'container', 'ls'],
    [`--host=${NO_DAEMON}`, '-l', 'info', 'ps'],
    ['--tls=false', '-H', NO_DAEMON, 'container', '--help'],
  ]) {
    const r = await runJoey(argv);
    if (argv.includes('--help')) assert.match(r.stdout, /^Usage: {2}joey container COMMAND\n/, argv.join(' '));
    else assert.equal(r.stderr.replace(/^DEBU .*\n/gm, ''), want, argv.join(' '));
  }
});
