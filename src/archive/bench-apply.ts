// Times applyLayer on a synthetic layer (not a test). Run as root:
//   node --import tsx src/archive/bench-apply.ts [--runs N] [--rebuild] [--plain] [--no-tar] [--keep] [--out DIR]
// The layer (about 100 MB gzipped: 30,000 small files, 40 big ones, symlinks,
// hardlinks, whiteouts) is built once and kept in the temp dir. GNU tar on
// the same file is timed beside it for scale. CPU time covers all threads.
//
// --keep: each run extracts into a new directory (joey-bench-out-PID-N),
// and they are left for the caller to remove once a series of runs is over.
// On ext4 without a journal, inodes freed in the last minute or more are
// skipped at allocation at a high kernel cost, so removing the previous
// run's 30,000 files right before a run makes file creation several times
// slower for every unpacker.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { applyLayer } from './apply.ts';

const work = join(tmpdir(), 'joey-bench-apply');
const gzPath = join(work, 'layer.tar.gz');
const tarPath = join(work, 'layer.tar');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : (process.argv[i + 1] ?? '');
}

/** 40% random, the rest repetitive: gzip shrinks it about 2:1, as with real binaries. */
function content(size: number): Buffer {
  const b = Buffer.alloc(size);
  const random = Math.floor(size * 0.4);
  randomBytes(random).copy(b);
  const text = Buffer.from('lorem ipsum dolor sit amet, consectetur adipiscing elit; ');
  for (let i = random; i < size; i += text.length) text.copy(b, i, 0, Math.min(text.length, size - i));
  return b;
}

async function build(): Promise<void> {
  await fsp.mkdir(work, { recursive: true });
  const p = pack();
  const done = pipeline(p, createGzip({ level: 6 }), createWriteStream(gzPath));
  const add = (h: Parameters<typeof p.entry>[0], data?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (data) p.entry(h, data, cb);
      else p.entry(h, cb);
    });
  const mtime = new Date('2024-01-01T00:00:00Z');
  for (let d = 0; d < 1000; d++) await add({ name: `usr/share/d${d}/`, type: 'directory', mode: 0o755, mtime });
  for (let i = 0; i < 30_000; i++) {
    const size = 256 + Math.floor(Math.random() * 7800);
    const mode = i % 10 === 0 ? 0o755 : 0o644;
    await add({ name: `usr/share/d${i % 1000}/f${i}`, mode, mtime }, content(size));
    if (i % 15 === 0) await add({ name: `usr/share/d${i % 1000}/s${i}`, type: 'symlink', linkname: `f${i}`, mtime });
    if (i % 60 === 0) await add({ name: `usr/share/d${i % 1000}/h${i}`, type: 'link', linkname: `usr/share/d${i % 1000}/f${i}`, mode, mtime });
    if (i % 100 === 0) await add({ name: `usr/share/d${i % 1000}/.wh.old${i}`, mtime }, Buffer.alloc(0));
  }
  for (let i = 0; i < 30; i++) await add({ name: `usr/lib/big${i}.so`, mode: 0o755, mtime }, content(3_000_000));
  p.finalize();
  await done;
}

/** Prints wall time, MB/s and CPU seconds, user + system (ours, all
 * threads, or what `fn` returns for a child). */
async function timeRun(label: string, bytes: number, fn: () => Promise<[number, number] | void>): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const childCpu = await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const [user, sys] = childCpu ?? [c.user / 1e6, c.system / 1e6];
  const cpu = `cpu ${(user + sys).toFixed(2)} s (user ${user.toFixed(2)} + sys ${sys.toFixed(2)})`;
  console.log(`${label.padEnd(26)} ${s.toFixed(2)} s  ${(bytes / 1e6 / s).toFixed(1).padStart(6)} MB/s  ${cpu}`);
  return s;
}

async function main(): Promise<void> {
  if (process.argv.includes('--rebuild')) await fsp.rm(work, { recursive: true, force: true });
  if (!(await fsp.stat(gzPath).catch(() => undefined))) {
    console.log(`building ${gzPath} ...`);
    await build();
  }
  const plain = process.argv.includes('--plain');
  if (plain && !(await fsp.stat(tarPath).catch(() => undefined))) {
    spawnSync('sh', ['-c', `gzip -dc '${gzPath}' > '${tarPath}'`], { stdio: 'inherit' });
  }
  const gzSize = (await fsp.stat(gzPath)).size;
  const runs = Number(arg('--runs') ?? 3);
  const base = join(arg('--out') ?? work, 'joey-bench-out');
  const keep = process.argv.includes('--keep');
  let target = base;
  let n = 0;
  let result: Awaited<ReturnType<typeof applyLayer>> | undefined;
  const fresh = async () => {
    if (keep) target = `${base}-${process.pid}-${n++}`;
    await fsp.rm(target, { recursive: true, force: true });
    await fsp.mkdir(target, { recursive: true });
    spawnSync('sync');
  };
  for (let r = 0; r < runs; r++) {
    await fresh();
    await timeRun('applyLayer (gzip)', gzSize, async () => {
      result = await applyLayer(createReadStream(gzPath, { highWaterMark: 1 << 20 }), target);
    });
    if (plain) {
      await fresh();
      await timeRun('applyLayer (plain tar)', gzSize, async () => {
        await applyLayer(createReadStream(tarPath, { highWaterMark: 1 << 20 }), target);
      });
    }
    if (process.argv.includes('--no-tar')) continue;
    await fresh();
    await timeRun('GNU tar -xzf (for scale)', gzSize, async () => {
      const r = spawnSync('/usr/bin/time', ['-f', '%U %S', 'tar', '--same-owner', '-xzpf', gzPath, '-C', target]);
      if (r.status !== 0) throw new Error(r.stderr.toString());
      const [u, sys] = r.stderr.toString().trim().split('\n').at(-1)!.split(' ').map(Number);
      return [u!, sys!];
    });
  }
  if (keep) console.log(`kept ${n} directories ${base}-${process.pid}-*`);
  else await fsp.rm(target, { recursive: true, force: true });
  const files = 30_000 + 30;
  console.log(`layer: ${(gzSize / 1e6).toFixed(1)} MB gzip, ${(result!.size / 1e6).toFixed(1)} MB of files, ${files} files; MB/s above are compressed MB`);
}

await main();
