import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ensureImage, IMAGES } from '../lib/images.ts';
import { startRegistry, pushLayout } from '../lib/registry.ts';
import { ENGINES } from '../lib/engines.ts';
import { run, installSignalCleanup, onCleanup, runCleanups, excerpt } from '../lib/proc.ts';
installSignalCleanup();
const T = mkdtempSync('/tmp/jb-');
const img = await ensureImage(IMAGES['p10']!, console.log);
const reg = await startRegistry(join(T, 'registry'));
onCleanup('registry', () => reg.stop());
const ref = `${reg.host}/bench/p10:latest`;
let t = Date.now();
await pushLayout(img.dir, 'latest', ref, T);
console.log('push', (Date.now() - t) / 1000);
const want = (process.argv[2] ?? 'docker,ctr,podman,joey').split(',');
for (const e of ENGINES.filter((x) => want.includes(x.name))) {
  const dir = join(T, e.name);
  try {
    t = Date.now();
    const inst = await e.start(dir, { registry: reg.host, repoRoot: process.cwd() });
    console.log(e.name, 'started', (Date.now() - t) / 1000);
    const c = inst.pull(ref);
    const r = await run(c.argv, { env: c.env });
    console.log(e.name, 'pull', r.code, r.seconds.toFixed(2), excerpt(r.stdout + r.stderr));
    console.log(e.name, 'verify', await inst.verify(ref, 10), await inst.storeBytes());
    if (process.env.HOLD) { console.log('holding'); await new Promise((res) => setTimeout(res, Number(process.env.HOLD) * 1000)); }
    t = Date.now();
    await inst.stop();
    console.log(e.name, 'stopped', (Date.now() - t) / 1000);
  } catch (err) {
    console.log(e.name, 'failed', (err as Error).message);
  }
}
await runCleanups();
await run(['rm', '-rf', T]);
