// Bundles the two entry points so that joeyd and joey start without resolving
// hundreds of modules, and the layer unpacker's worker thread, which needs an
// entry point of its own: src/archive/pool.ts starts dist/archive-worker.mjs,
// found from its own place in dist/ or dist/chunks/ (keep those names in
// step). Native and optional modules stay external.
import { readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  external: ['better-sqlite3', 'node-unix-socket'],
  banner: {
    js: "import { createRequire as __joeyCreateRequire } from 'node:module'; const require = __joeyCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
};

const result = await build({
  ...common,
  metafile: true,
  entryPoints: { joeyd: 'src/daemon/main.ts', joey: 'src/cli/main.ts', 'archive-worker': 'src/archive/worker.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});

// Chunks of earlier builds pile up under hashed names: keep only this build's.
const keep = new Set(Object.keys(result.metafile.outputs).map((p) => resolve(p)));
for (const f of readdirSync('dist/chunks')) {
  const p = resolve('dist/chunks', f);
  if (!keep.has(p)) rmSync(p, { force: true });
}
