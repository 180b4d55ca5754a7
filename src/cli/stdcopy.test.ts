import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Demuxer, demultiplex, frame } from './stdcopy.ts';

test('frames go to stdout and stderr, however the chunks cut them', async () => {
  const all = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, ''), frame(1, 'out two\n')]);
  for (const cut of [1, 3, 7, 8, 9, 100]) {
    const out: string[] = [];
    const err: string[] = [];
    const chunks: Buffer[] = [];
    for (let i = 0; i < all.length; i += cut) chunks.push(all.subarray(i, i + cut));
    await demultiplex(
      chunks,
      (b) => void out.push(b.toString()),
      (b) => void err.push(b.toString()),
    );
    assert.equal(out.join(''), 'out one\nout two\n', `cut ${cut}`);
    assert.equal(err.join(''), 'err\n', `cut ${cut}`);
  }
});

test('stream 3 is the daemon reporting an error; stream 0 counts as stdout', async () => {
  const out: string[] = [];
  const d = new Demuxer((b) => void out.push(b.toString()), undefined);
  await d.write(frame(1, 'a'));
  await d.write(Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), Buffer.from('b')]));
  await assert.rejects(d.write(frame(3, 'boom')), { message: 'error from daemon in stream: boom' });
  assert.deepEqual(out, ['a', 'b']);
  await assert.rejects(new Demuxer(undefined, undefined).write(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0])), /Unrecognized input header: 9/);
});
