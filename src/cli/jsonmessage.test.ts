import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { StreamError, displayJsonMessages, renderProgress } from './jsonmessage.ts';
import type { JsonMessage } from './jsonmessage.ts';

const D = 'sha256:' + 'd'.repeat(64);

// What dockerd sends for `pull busybox` with one new and one existing layer.
const PULL: JsonMessage[] = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: '2fce1e0cdfc5' },
  { status: 'Pulling fs layer', progressDetail: {}, id: '9c0abc9c5bd3' },
  { status: 'Downloading', progressDetail: { current: 32768, total: 2152262 }, progress: '[>  ]  32.77kB/2.152MB', id: '2fce1e0cdfc5' },
  { status: 'Verifying Checksum', progressDetail: {}, id: '2fce1e0cdfc5' },
  { status: 'Download complete', progressDetail: {}, id: '2fce1e0cdfc5' },
  { status: 'Extracting', progressDetail: { current: 65536, total: 2152262 }, progress: '[=> ]', id: '2fce1e0cdfc5' },
  { status: 'Pull complete', progressDetail: {}, id: '2fce1e0cdfc5' },
  { status: 'Already exists', progressDetail: {}, id: '9c0abc9c5bd3' },
  { status: `Digest: ${D}` },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

const stream = (msgs: unknown[]) => Readable.from([msgs.map((m) => JSON.stringify(m)).join('\r\n') + '\r\n']);

async function show(msgs: unknown[], isTerminal: boolean, width = 200): Promise<string> {
  let out = '';
  await displayJsonMessages(stream(msgs), (s) => (out += s), { isTerminal, width });
  return out;
}

test('off a terminal each status shows once per line, without bars', async () => {
  assert.equal(
    await show(PULL, false),
    [
      'latest: Pulling from library/busybox',
      '2fce1e0cdfc5: Pulling fs layer',
      '9c0abc9c5bd3: Pulling fs layer',
      '2fce1e0cdfc5: Verifying Checksum',
      '2fce1e0cdfc5: Download complete',
      '2fce1e0cdfc5: Pull complete',
      '9c0abc9c5bd3: Already exists',
      `Digest: ${D}`,
      'Status: Downloaded newer image for busybox:latest',
      '',
    ].join('\n'),
  );
});

test('on a terminal each layer keeps its line, redrawn in place (bytes as docker writes them)', async () => {
  const E = '\x1b[';
  const bar = (pct: number) => `[${'='.repeat(pct)}>${' '.repeat(50 - pct)}] `;
  assert.equal(
    await show(PULL, true),
    'latest: Pulling from library/busybox\n' +
      `\n${E}1A${E}2K\r2fce1e0cdfc5: Pulling fs layer \r${E}1B` +
      `\n${E}1A${E}2K\r9c0abc9c5bd3: Pulling fs layer \r${E}1B` +
      `${E}2A${E}2K\r2fce1e0cdfc5: Downloading ${bar(0)} 32.77kB/2.152MB\r${E}2B` +
      `${E}2A${E}2K\r2fce1e0cdfc5: Verifying Checksum \r${E}2B` +
      `${E}2A${E}2K\r2fce1e0cdfc5: Download complete \r${E}2B` +
      `${E}2A${E}2K\r2fce1e0cdfc5: Extracting ${bar(1)} 65.54kB/2.152MB\r${E}2B` +
      `${E}2A${E}2K\r2fce1e0cdfc5: Pull complete \r${E}2B` +
      `${E}1A${E}2K\r9c0abc9c5bd3: Already exists \r${E}1B` +
      `Digest: ${D}\nStatus: Downloaded newer image for busybox:latest\n`,
  );
});

test('narrow terminals get counts without the bar', async () => {
  const out = await show(PULL.slice(0, 4), true, 80);
  assert.match(out, /2fce1e0cdfc5: Downloading  32\.77kB\/2\.152MB\r/);
  assert.doesNotMatch(out, /\[[=> ]/);
});

test('progress text: bar, counts, units, and the time left', () => {
  assert.equal(renderProgress({ current: 0, total: 0 }, 200), '');
  assert.equal(renderProgress({ current: 1000000, total: 2152262 }, 200), `[${'='.repeat(23)}>${' '.repeat(27)}]      1MB/2.152MB`);
  assert.equal(renderProgress({ current: 3000, total: 2000 }, 80), '     3kB');
  assert.equal(renderProgress({ current: 5 }, 80), '      5B');
  assert.equal(renderProgress({ current: 2, total: 5, units: 'layers' }, 80), '2/5 layers');
  assert.equal(renderProgress({ current: 1, total: 10, hidecounts: true }, 200), `[=====>${' '.repeat(45)}] `);
  // 10 s for the first 1000 of 4000 bytes: 30 s to go
  assert.equal(renderProgress({ current: 1000, total: 4000, start: 1000 }, 80, 1010 * 1000), '     1kB/4kB 30s');
});

test('an error line stops the display with the daemon\'s message', async () => {
  let out = '';
  const msgs = [...PULL.slice(0, 2), { errorDetail: { message: 'unexpected EOF' }, error: 'unexpected EOF' }, PULL[9]];
  await assert.rejects(
    displayJsonMessages(stream(msgs), (s) => (out += s), { isTerminal: false }),
    (err: unknown) => err instanceof StreamError && err.message === 'unexpected EOF',
  );
  assert.equal(out, 'latest: Pulling from library/busybox\n2fce1e0cdfc5: Pulling fs layer\n');
});

test('aux messages go to the callback, streams print as they are', async () => {
  const aux: unknown[] = [];
  let out = '';
  const msgs = [{ stream: 'Loaded image: busybox:latest\n' }, { progressDetail: {}, aux: { Tag: 'latest', Digest: D, Size: 527 } }];
  await displayJsonMessages(stream(msgs), (s) => (out += s), { isTerminal: false, onAux: (a) => aux.push(a) });
  assert.equal(out, 'Loaded image: busybox:latest\n');
  assert.deepEqual(aux, [{ Tag: 'latest', Digest: D, Size: 527 }]);
});

test('messages split across chunks are joined before parsing', async () => {
  const text = JSON.stringify({ status: 'a' }) + '\n' + JSON.stringify({ status: 'b' }) + '\n';
  let out = '';
  await displayJsonMessages(Readable.from([text.slice(0, 7), text.slice(7, 20), text.slice(20)]), (s) => (out += s), { isTerminal: false });
  assert.equal(out, 'a\nb\n');
});
