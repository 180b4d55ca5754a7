// Bundles joeyd and the layer unpacker's worker thread as ES modules, which
// needs an entry point of its own: src/archive/pool.ts starts
// dist/archive-worker.mjs, found from its own place in dist/ or dist/chunks/
// (keep those names in step). The CLI is bundled apart, as one CommonJS
// file that bin/joey loads with V8's code cache (see below and
// docs/notes/cli-startup.md). Native and optional modules stay external.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

// commander loads node:child_process for executable subcommands, which joey
// has none of; loaded at every start it costs the CLI milliseconds. It is
// loaded when first used instead.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  // grpc-js and proto-loader stay external: joeyd loads them only with --cri,
  // and protobufjs finds its optional modules (long) at run time.
  external: ['better-sqlite3', 'node-unix-socket', '@grpc/grpc-js', '@grpc/proto-loader'],
  banner: {
    js: "import { createRequire as __joeyCreateRequire } from 'node:module'; const require = __joeyCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  plugins: [lazyChildProcess],
};

const result = await build({
  ...common,
  metafile: true,
  entryPoints: { joeyd: 'src/daemon/main.ts', 'archive-worker': 'src/archive/worker.ts' },
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

// joeyd's native system calls (src/sys/native.ts): a Node-API addon, one C
// file, no node-gyp; and joey-nsmount, a small program that binds files into
// a running container's mount namespace (lxcfs healing). Optional: without a
// compiler joeyd spawns mount(8) and cannot heal lxcfs mounts.
{
  const nodedir = process.env.npm_config_nodedir || resolve(process.execPath, '../..');
  mkdirSync('dist/native', { recursive: true });
  const builds = [
    { out: 'dist/native/joey-sys.node', args: ['-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=joey_sys', `-I${nodedir}/include/node`, 'src/sys/native/joey-sys.c'], without: 'joeyd will spawn mount(8) and umount(8)' },
    { out: 'dist/native/joey-nsmount', args: ['src/sys/native/joey-nsmount.c'], without: 'joeyd cannot give running containers a restarted lxcfs' },
    // The pod sandboxes' process (CRI): static, the only file of its image.
    { out: 'dist/native/joey-pause', args: ['-static', 'src/engine/pods/pause.c'], without: 'the CRI needs --pod-infra-image to run pod sandboxes' },
  ];
  for (const b of builds) {
    const cc = spawnSync(process.env.CC || 'cc', ['-O2', '-Wall', ...b.args.slice(0, -1), '-o', b.out, b.args.at(-1)], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (cc.status !== 0) {
      rmSync(b.out, { force: true });
      console.warn(`build: ${b.out} did not build (${cc.error?.message ?? `exit ${cc.status}`}); ${b.without}`);
    }
  }
}

// The CRI's protocol description, read by proto-loader at run time
// (src/api/cri/proto.ts looks for it beside the bundle).
mkdirSync('dist/cri', { recursive: true });
copyFileSync('src/api/cri/runtime-v1.proto', 'dist/cri/runtime-v1.proto');

// The CLI is one CommonJS file, started often and briefly: no module
// resolution per chunk, and bin/joey can compile it with V8's code cache
// (only a classic script can have one on Node 20). Commands stay lazy:
// esbuild turns their import() into functions run on first use, and
// import() of a builtin into require() (a vm.Script cannot import). Less
// text to read and compile: whitespace and comments go, names stay (for
// stack traces and error names).
const { banner: _esmOnly, ...cjs } = common;
await build({
  ...cjs,
  format: 'cjs',
  supported: { 'dynamic-import': false },
  minifyWhitespace: true,
  minifySyntax: true,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/joey.cjs',
});
for (const f of ['dist/joey.mjs', 'dist/joey.mjs.map', 'dist/joey.cjs.cache']) rmSync(f, { force: true });
// A first run writes the code cache (bin/joey does when there is none),
// with the functions it ran: `version` without a daemon goes through the
// commands, the API client and the templates.
spawnSync(process.execPath, ['bin/joey', '-H', 'unix:///nonexistent/joey-build.sock', 'version'], {
  stdio: 'ignore',
  env: { ...process.env, JOEY_CONFIG: '/nonexistent/joey-build-config' },
});
