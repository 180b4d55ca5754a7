import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachContainer } from './attach.ts';
import type { ContainerContext } from './context.ts';
import type { ContainerRecord } from './record.ts';

test('attaching to a container that exits meanwhile (its socket gone) ends the stream instead of failing', async () => {
  const bundle = await mkdtemp(join(tmpdir(), 'joey-attach-unit-'));
  try {
    const c = { id: 'a'.repeat(64), config: {}, state: { Running: true } } as unknown as ContainerRecord;
    const cx = { store: { get: () => c }, paths: () => ({ bundle }) } as unknown as ContainerContext;
    const session = await attachContainer(cx, c.id, { stdout: true, stderr: true, stream: true });
    const got: unknown[] = [];
    for await (const p of session.output) got.push(p);
    assert.deepEqual(got, []);
    session.close();
  } finally {
    await rm(bundle, { recursive: true, force: true });
  }
});
