// create + start + exit + delete of busybox `true`, side by side (root only):
//   node --import tsx src/runtime/conmon/bench.ts [runs]
// ConmonRuntime against bare `runc run` and against conmon + runc driven
// from a bash script, on the same rootfs and the same cgroup parent.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { watchExits } from './exits.ts';
import { CONMON, RUNC, Sandbox, canRunContainers } from './testing.ts';

const runs = Number(process.argv[2] ?? 10);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)})`;

type Phases = { create: number; start: number; exit: number; delete: number; total: number };

/** One ConmonRuntime lifecycle; `exited` resolves when watchExits sees the exit file. */
async function oneRuntime(sb: Sandbox, id: string, exited: Promise<void>): Promise<Phases> {
  const paths = sb.paths(id);
  // The engine makes these before it calls create (the rootfs is mounted in the bundle).
  mkdirSync(paths.bundle, { recursive: true });
  mkdirSync(paths.persistDir, { recursive: true });
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
  return { create: t1 - t0, start: t2 - t1, exit: t3 - t2, delete: t4 - t3, total: t4 - t0 };
}

function bundleFor(sb: Sandbox, name: string): string {
  const b = join(sb.dir, name);
  mkdirSync(b, { recursive: true });
  writeFileSync(join(b, 'config.json'), JSON.stringify(sb.spec(['true'], { id: name })));
  return b;
}

function oneRuncRun(sb: Sandbox, b: string, id: string): Promise<number> {
  sb.paths(id);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(RUNC, ['--root', sb.runcRoot, 'run', '--bundle', b, id], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`runc run exited ${code}`))));
  });
}

/** conmon + runc as a shell script drives them: the sync pipe through a FIFO,
 * the exit file polled every millisecond with a builtin read timeout. Timed inside bash. */
function oneShell(sb: Sandbox, b: string, id: string): number {
  sb.paths(id);
  const script = `
set -e
B=${b}; ROOT=${sb.runcRoot}; EXITS=${sb.exitDir}; ID=${id}
rm -f $B/sync $B/pidfile $B/conmon.pid $B/attach $B/ctl $B/winsz; mkfifo $B/sync; exec 4<>$B/sync
t0=$EPOCHREALTIME
_OCI_SYNCPIPE=3 TZ=UTC ${CONMON} --api-version 1 -c $ID -u $ID -n $ID -r ${RUNC} --runtime-arg --root --runtime-arg $ROOT \
  -b $B -p $B/pidfile --exit-dir $EXITS -0 $B -l k8s-file:$B/log --full-attach --conmon-pidfile $B/conmon.pid 3>&4
read -r -u 4 line
${RUNC} --root $ROOT start $ID
until [ -e $EXITS/$ID ]; do read -r -t 0.001 -u 4 x || true; done
${RUNC} --root $ROOT delete $ID
t1=$EPOCHREALTIME
echo "$t0 $t1"
`;
  const r = spawnSync('bash', ['-c', script], { cwd: b, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`shell bench failed: ${r.stderr}`);
  const [a, z] = r.stdout.trim().split(' ').map(Number);
  return (z! - a!) * 1000;
}

async function main(): Promise<void> {
  const why = canRunContainers();
  if (why) {
    console.error(`skipped: ${why}`);
    return;
  }
  const sb = new Sandbox('bench');
  const waiters = new Map<string, () => void>();
  const stop = watchExits(sb.exitDir, (id) => waiters.get(id)?.(), { initial: false, persistent: true });
  try {
    const runB = bundleFor(sb, 'bench-run');
    const shB = bundleFor(sb, 'bench-sh');
    const rt: Phases[] = [];
    const run: number[] = [];
    const sh: number[] = [];
    // One of each per round, so that the host's load drifts hit all three alike; round 0 warms up.
    for (let i = 0; i <= runs; i++) {
      const id = `bench-rt-${i}`;
      const p = await oneRuntime(sb, id, new Promise<void>((r) => waiters.set(id, r)));
      const r = await oneRuncRun(sb, runB, `bench-run-${i}`);
      const s = oneShell(sb, shB, `bench-sh-${i}`);
      if (i === 0) continue;
      rt.push(p);
      run.push(r);
      sh.push(s);
    }
    const col = (k: keyof Phases) => rt.map((p) => p[k]);
    console.log(`busybox true, ${runs} rounds, load avg ${loadavg()[0]!.toFixed(2)}`);
    console.log(`runc run (bare)            ${fmt(run)}`);
    console.log(`conmon + runc from bash    ${fmt(sh)}`);
    console.log(`ConmonRuntime              ${fmt(col('total'))}`);
    for (const k of ['create', 'start', 'exit', 'delete'] as const) console.log(`  ${k.padEnd(24)}${fmt(col(k))}`);
    console.log(`ConmonRuntime - bash, paired per round: ${fmt(col('total').map((t, i) => t - sh[i]!))}`);
  } finally {
    stop();
    await sb.cleanup();
  }
}

await main();
