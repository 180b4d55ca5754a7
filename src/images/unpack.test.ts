// The unpacker's download against fakes, for what the image service tests
// cannot arrange: a network side that is slow to stop. Each case runs in a
// worker thread, so that one that starves the event loop fails here instead
// of hanging the test run.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { ApplyLayer } from '../archive/types.ts';
import { openContentStore } from '../content/store.ts';
import { invalid, notFound } from '../errdefs/index.ts';
import type { Snapshotter } from '../snapshots/types.ts';
import { Unpacker } from './unpack.ts';

/** The unpack of a layer fails at its first bytes while the network side,
 * which has sent 1000 of them and waits for more (a peer still downloading),
 * takes 300 ms to stop. Resolves with the pull's error kind. */
async function consumerFailsNetworkSlowToStop(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'joey-unpack-'));
  try {
    const content = await openContentStore(join(dir, 'content'));
    const snapshots = {
      prepare: async () => [],
      upperDir: async () => dir,
      remove: async () => undefined,
      commit: async () => undefined,
      stat: async () => {
        throw notFound('no snapshot');
      },
    } as unknown as Snapshotter;
    const applyLayer: ApplyLayer = async (input) => {
      for await (const _ of input) throw invalid('not a tar archive');
      throw invalid('empty');
    };
    const blob = randomBytes(100_000);
    const digest = 'sha256:' + createHash('sha256').update(blob).digest('hex');
    let sent = false;
    const open = async () =>
      new Readable({
        read() {
          if (!sent) this.push(blob.subarray(0, 1000));
          sent = true;
        },
        destroy(err, cb) {
          setTimeout(() => cb(err), 300);
        },
      });
    const unpacker = new Unpacker({ content, snapshots, applyLayer });
    const job = { blob: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: blob.length }, diffId: digest, chainId: digest, open, attempts: 1 };
    return await unpacker.ensure(job).then(
      () => 'resolved',
      (e: Error & { kind?: string }) => e.kind ?? e.message,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const CASES: Record<string, () => Promise<string>> = { consumerFailsNetworkSlowToStop };

if (!isMainThread) {
  void CASES[workerData as string]!().then((r) => parentPort!.postMessage(r));
} else {
  /** Runs `name` in a worker; undefined when it gives no answer in `ms` (the worker is stopped). */
  async function inWorker(name: string, ms: number): Promise<string | undefined> {
    // tsx's hooks do not reach a worker's entry module on Node 20: a bootstrap registers them (as archive/pool.ts does).
    const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
    const w = new Worker(boot, { eval: true, workerData: name });
    try {
      return await new Promise<string | undefined>((resolve, reject) => {
        const timer = setTimeout(() => resolve(undefined), ms);
        w.once('message', (m: string) => (clearTimeout(timer), resolve(m)));
        w.once('error', (e) => (clearTimeout(timer), reject(e)));
      });
    } finally {
      await w.terminate();
    }
  }

  test('the unpack fails while the network side is slow to stop: the layer fails with the unpack error, the event loop never starves', async () => {
    assert.equal(await inWorker('consumerFailsNetworkSlowToStop', 10_000), 'invalid');
  });
}
