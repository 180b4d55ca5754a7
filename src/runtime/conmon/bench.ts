// create + start + exit + delete of busybox `true`, side by side (root only):
//   node --import tsx src/runtime/conmon/bench.ts [runs]
// ConmonRuntime against bare `runc run` and against conmon + runc driven
// from a bash script, on the same rootfs and the same cgroup parent.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { watchExits } from './exits.ts';
import { CONMON, RUNC, Sandbox, canRunContainers } from './testing.ts';

const runs = Number(process.argv[2] ?? 10);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)})`;

async function benchRuntime(sb: Sandbox): Promise<Record<string, number[]>> {
  const t: Record<string, number[]> = { create: [], start: [], exit: [], delete: [], total: [] };
  const waiters = new Map<string, () => void>();
  const stop = watchExits(sb.exitDir, (id) => waiters.get(id)?.(), { initial: false });
  try {
    for (let i = 0; i < runs + 1; i++) {
      const id = `bench-rt-${i}`;
      const paths = sb.paths(id);
      const exited = new Promise<void>((r) => waiters.set(id, r));
      const t0 = performance.now();
      const c = await sb.runtime.create({ id, name: id, spec: sb.spec(['true'], { id }), paths, stdin: false, tty: false });
      const t1 = performance.now();
      sb.track(c.monitorPid);
      await sb.runtime.start(id);
      const t2 = performance.now();
      await exited;
      const t3 = performance.now();
      await sb.runtime.delete(id);
      const t4 = performance.now();
      if (i === 0) continue; // warm-up
      t.create!.push(t1 - t0);
      t.start!.push(t2 - t1);
      t.exit!.push(t3 - t2);
      t.delete!.push(t4 - t3);
      t.total!.push(t4 - t0);
    }
  } finally {
    stop();
  }
  return t;
}

function bundleFor(sb: Sandbox, name: string): string {
  const b = join(sb.dir, name);
  mkdirSync(b, { recursive: true });
  writeFileSync(join(b, 'config.json'), JSON.stringify(sb.spec(['true'], { id: name })));
  return b;
}

async function benchRuncRun(sb: Sandbox): Promise<number[]> {
  const b = bundleFor(sb, 'bench-run');
  const out: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const id = `bench-run-${i}`;
    sb.paths(id);
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const p = spawn(RUNC, ['--root', sb.runcRoot, 'run', '--bundle', b, id], { stdio: 'ignore' });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run exited ${code}`))));
    });
    if (i > 0) out.push(performance.now() - t0);
  }
  return out;
}

/** conmon + runc as a shell script would drive them: sync pipe through a FIFO,
 * the exit file polled every millisecond with a builtin read timeout. */
function benchShell(sb: Sandbox): number[] {
  const b = bundleFor(sb, 'bench-sh');
  for (let i = 0; i <= runs; i++) sb.paths(`bench-sh-${i}`);
  const script = `
set -e
B=${b}; ROOT=${sb.runcRoot}; EXITS=${sb.exitDir}
rm -f $B/sync; mkfifo $B/sync; exec 4<>$B/sync
for i in $(seq 0 ${runs}); do
  ID=bench-sh-$i
  rm -f $B/pidfile $B/conmon.pid $B/attach $B/ctl $B/winsz $EXITS/$ID
  t0=$EPOCHREALTIME
  _OCI_SYNCPIPE=3 TZ=UTC ${CONMON} --api-version 1 -c $ID -u $ID -n $ID -r ${RUNC} --runtime-arg --root --runtime-arg $ROOT \\
    -b $B -p $B/pidfile --exit-dir $EXITS -0 $B -l k8s-file:$B/log --full-attach --conmon-pidfile $B/conmon.pid 3>&4
  read -r -u 4 line
  ${RUNC} --root $ROOT start $ID
  until [ -e $EXITS/$ID ]; do read -r -t 0.001 -u 4 x || true; done
  ${RUNC} --root $ROOT delete $ID
  t1=$EPOCHREALTIME
  echo "$t0 $t1"
done
`;
  const r = spawnSync('bash', ['-c', script], { cwd: b, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`shell bench failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [a, z] = l.split(' ').map(Number);
      return (z! - a!) * 1000;
    });
}

async function main(): Promise<void> {
  const why = canRunContainers();
  if (why) {
    console.error(`skipped: ${why}`);
    return;
  }
  const sb = new Sandbox('bench');
  try {
    // Interleave the three so that host load drifts hit all of them alike.
    const rt: Record<string, number[]> = { create: [], start: [], exit: [], delete: [], total: [] };
    const run: number[] = [];
    const sh: number[] = [];
    const rounds = 3;
    for (let r = 0; r < rounds; r++) {
      for (const [k, v] of Object.entries(await benchRuntime(sb))) rt[k]!.push(...v);
      run.push(...(await benchRuncRun(sb)));
      sh.push(...benchShell(sb));
    }
    console.log(`busybox true, ${runs * rounds} runs each, load avg ${(await import('node:os')).loadavg()[0]!.toFixed(2)}`);
    console.log(`runc run (bare)                 ${fmt(run)}`);
    console.log(`conmon + runc from bash         ${fmt(sh)}`);
    console.log(`ConmonRuntime                   ${fmt(rt.total!)}`);
    for (const k of ['create', 'start', 'exit', 'delete']) console.log(`  ${k.padEnd(30)}${fmt(rt[k]!)}`);
  } finally {
    await sb.cleanup();
  }
}

await main();
