import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINES } from '../lib/engines.ts';
const T = mkdtempSync('/tmp/jb-');
const e = ENGINES.find((x) => x.name === process.argv[2])!;
const inst = await e.start(join(T, e.name), { registry: '127.0.0.1:5999', repoRoot: process.cwd() });
await inst.stop();
console.log('ok', T);
