import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IngestOutcome, LiveIngest } from '../content/types.ts';
import { PartialBlobs } from './partial.ts';

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + '2'.repeat(64);

/** A writer's live view, ended by hand. */
function fakeLive(): LiveIngest & { end(o: IngestOutcome): void } {
  let settle!: (o: IngestOutcome) => void;
  const ended = new Promise<IngestOutcome>((r) => (settle = r));
  const l = {
    ref: 'x',
    written: 0,
    outcome: undefined as IngestOutcome | undefined,
    ended,
    changed: () => ended.then(() => undefined),
    openRead: () => Promise.reject(new Error('not here')),
    end(o: IngestOutcome) {
      l.outcome = o;
      settle(o);
    },
  };
  return l;
}
const tick = () => new Promise((r) => setImmediate(r));

test('shared while the writer is open; a stopped download is reported, a committed one stays listed until it is held', async () => {
  const ended: string[] = [];
  const p = new PartialBlobs((d, o) => ended.push(`${d.slice(7, 8)} ${o}`));
  const a = fakeLive();
  const b = fakeLive();
  p.add(D1, 10, a);
  p.add(D2, 20, b);
  assert.equal(p.get(D1)?.size, 10);
  const exists = new Set([D1]);
  const has = async (d: string) => exists.has(d);
  assert.deepEqual(await p.listed(new Set(), has), [D1, D2]);
  a.end('committed');
  b.end('closed');
  await tick();
  assert.deepEqual(ended, ['1 committed', '2 closed']);
  assert.equal(p.get(D1), undefined, 'no longer partial: the blob server serves it whole');
  assert.deepEqual(await p.listed(new Set(), has), [D1], 'committed, not yet in an image');
  assert.deepEqual(await p.listed(new Set([D1]), has), [], 'listed as held now');
  p.add(D1, 10, fakeLive());
  exists.clear();
  assert.deepEqual(await p.listed(new Set(), has), [D1]);
});

test('a newer writer for the same blob replaces the old one; the old one ending changes nothing', async () => {
  const ended: string[] = [];
  const p = new PartialBlobs((d, o) => ended.push(o));
  const old = fakeLive();
  const next = fakeLive();
  p.add(D1, 10, old);
  p.add(D1, 10, next);
  old.end('aborted');
  await tick();
  assert.equal(p.get(D1)?.live, next);
  assert.deepEqual(ended, []);
});
