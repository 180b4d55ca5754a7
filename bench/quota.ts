// Disk-quota benchmark: write throughput inside a container with a quota
// (the loop backend: the container's writable layer on a loop-mounted ext4
// image) beside one without, on the same private joeyd, round-robin. Each
// sample is `dd if=/dev/zero of=/f bs=1M count=MB conv=fsync` through
// `joey exec`, timed from spawn to exit (the exec overhead is in both
// columns). Prints the medians and the ratio. Run it through bench/quota.
import { startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from '../test/lib/containers.ts';
import { makeTempDir, removeDir } from '../test/lib/proc.ts';
import { busyboxInitTar } from '../test/lib/rich-images.ts';
import { parseOptions } from './lib/args.ts';
import { log } from './lib/session.ts';
import { formatTable, median, round2 } from './lib/stats.ts';

const USAGE = `usage: bench/quota [--rounds N] [--mb MB]

Writes MB (default 200) MiB with dd conv=fsync in a container run with
--disk-quota (twice MB plus 64m) and in one without, N rounds (default 7)
after one untimed warm-up. Needs root and \`make build\`.`;

const IMAGE = 'bench/quota-busybox:latest';

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), { rounds: 'int', mb: 'int' }, USAGE);
  const rounds = (opts.get('rounds') as number | undefined) ?? 7;
  const mb = (opts.get('mb') as number | undefined) ?? 200;
  const work = await makeTempDir('joey-bench-quota-');
  let cd: ContainerDaemon | undefined;
  try {
    cd = await startContainerDaemon('bench-quota');
    const d = cd.d;
    await d.dockerOk(['import', '--change', 'CMD ["sh"]', await busyboxInitTar(work), IMAGE], { timeoutMs: 60_000 });
    await d.joeyOk(['run', '-d', '--name', 'plain', '--network', 'none', IMAGE, 'sleep', 'infinity']);
    await d.joeyOk(['run', '-d', '--name', 'quota', '--network', 'none', '--disk-quota', `${2 * mb + 64}m`, IMAGE, 'sleep', 'infinity']);
    const write = async (name: string): Promise<number> => {
      const t0 = performance.now();
      await d.joeyOk(['exec', name, 'dd', 'if=/dev/zero', 'of=/f', 'bs=1M', `count=${mb}`, 'conv=fsync'], { timeoutMs: 300_000 });
      const ms = performance.now() - t0;
      await d.joeyOk(['exec', name, 'rm', '-f', '/f']);
      return ms;
    };
    await write('plain');
    await write('quota');
    const samples: Record<'plain' | 'quota', number[]> = { plain: [], quota: [] };
    for (let i = 0; i < rounds; i++) {
      // Alternate the order so that neither side always writes to a cold cache.
      for (const name of i % 2 === 0 ? (['plain', 'quota'] as const) : (['quota', 'plain'] as const)) samples[name].push(await write(name));
      log(`round ${i + 1}/${rounds}: plain ${Math.round(samples.plain.at(-1)!)} ms, quota ${Math.round(samples.quota.at(-1)!)} ms`);
    }
    const rate = (ms: number): number => round2(mb / (ms / 1000));
    const mp = median(samples.plain);
    const mq = median(samples.quota);
    process.stdout.write(
      formatTable(
        ['container', `median ms (${mb} MiB, fsync)`, 'MiB/s', 'ratio'],
        [
          ['no quota', String(Math.round(mp)), String(rate(mp)), '1.00'],
          ['--disk-quota (loop ext4)', String(Math.round(mq)), String(rate(mq)), String(round2(mq / mp))],
        ],
      ) + '\n',
    );
  } finally {
    await teardownContainerDaemon(cd).catch((e) => log(String(e)));
    await removeDir(work);
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
