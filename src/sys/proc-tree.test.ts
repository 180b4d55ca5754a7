import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { isAlive, readProcStat, type ProcStat } from './proc.ts';
import { hostProcTable, killProcessTree, type ProcTable } from './proc-tree.ts';

/** A process table in memory: SIGSTOP stops, SIGKILL removes (children go to pid 1). */
function fakeTable(
  procs: Array<[pid: number, ppid: number, start: number]>,
  hooks: { lateStop?: Set<number>; onChildren?: (t: FakeTable) => void; failStop?: Set<number> } = {},
) {
  const live = new Map<number, ProcStat>(procs.map(([pid, ppid, start]) => [pid, { pid, ppid, startTime: start, comm: 'x', state: 'S' }]));
  const signals: string[] = [];
  const t: FakeTable = {
    live,
    signals,
    read: [],
    stat: async (pid) => {
      t.read.push(pid);
      const p = live.get(pid);
      return p && { ...p };
    },
    children: async (pid) => {
      hooks.onChildren?.(t);
      return [...live.values()].filter((p) => p.ppid === pid).map((p) => p.pid);
    },
    signal(pid, sig) {
      const p = live.get(pid);
      if (!p) return false;
      if (sig === 'SIGSTOP' && hooks.failStop?.has(pid)) throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
      signals.push(`${sig} ${pid}`);
      if (sig === 'SIGSTOP') {
        // A late stop: the process runs on until it is next scheduled.
        if (!hooks.lateStop?.has(pid)) p.state = 'T';
      } else {
        live.delete(pid);
        for (const c of live.values()) if (c.ppid === pid) c.ppid = 1;
      }
      return true;
    },
  };
  return t;
}
type FakeTable = ProcTable & { live: Map<number, ProcStat>; signals: string[]; read: number[] };

test('killProcessTree: the process and its descendants, stopped first, nothing else', async () => {
  // 10 → 11 → 12, 10 → 13; 20 is another process; 14's parent is 1.
  const t = fakeTable([[1, 0, 1], [10, 1, 100], [11, 10, 101], [12, 11, 102], [13, 10, 103], [14, 1, 104], [20, 1, 50]]);
  const killed = await killProcessTree(10, 100, t);
  assert.deepEqual(killed.sort(), [10, 11, 12, 13]);
  assert.deepEqual([...t.live.keys()].sort((a, b) => a - b), [1, 14, 20]);
  // Every stop came before the first kill.
  const firstKill = t.signals.findIndex((s) => s.startsWith('SIGKILL'));
  assert.ok(t.signals.slice(firstKill).every((s) => s.startsWith('SIGKILL')), t.signals.join(', '));
  assert.equal(t.signals.filter((s) => s.startsWith('SIGSTOP')).length, 4);
});

test('killProcessTree: a child forked before its parent\'s stop took effect is caught too', async () => {
  // 30 is still running after its SIGSTOP: it forks 31 when the walk asks
  // for its children the second time, then stops.
  let asked = 0;
  const t = fakeTable([[30, 1, 300]], {
    lateStop: new Set([30]),
    onChildren: (tb) => {
      if (++asked !== 2) return;
      tb.live.set(31, { pid: 31, ppid: 30, startTime: 301, comm: 'x', state: 'R' });
      tb.live.get(30)!.state = 'T';
    },
  });
  assert.deepEqual((await killProcessTree(30, 300, t)).sort(), [30, 31]);
  assert.equal(t.live.size, 0);
});

test('killProcessTree: a gone or reused pid is left alone', async () => {
  const t = fakeTable([[40, 1, 999], [41, 40, 1000]]);
  assert.deepEqual(await killProcessTree(40, 400, t), []); // 40 now is another process
  assert.deepEqual(await killProcessTree(77, 1, t), []);
  assert.deepEqual(t.signals, []);
});

test('killProcessTree reads the tree only, not every process of the host', async () => {
  // 60 → 61 → 62 among a thousand other processes.
  const others = Array.from({ length: 1000 }, (_, i): [number, number, number] => [1000 + i, 1, 10]);
  const t = fakeTable([[60, 1, 600], [61, 60, 601], [62, 61, 602], ...others]);
  assert.deepEqual((await killProcessTree(60, 600, t)).sort(), [60, 61, 62]);
  assert.deepEqual([...new Set(t.read)].sort(), [60, 61, 62]);
});

test('killProcessTree: a failure midway still kills what it had stopped', async () => {
  // Stopping 72 fails: 70 and 71 are stopped by then and must not stay so.
  const t = fakeTable([[70, 1, 700], [71, 70, 701], [72, 71, 702]], { failStop: new Set([72]) });
  await assert.rejects(killProcessTree(70, 700, t), /EPERM/);
  assert.deepEqual([...t.live.keys()], [72]);
  assert.deepEqual(t.signals.filter((s) => s.startsWith('SIGKILL')), ['SIGKILL 70', 'SIGKILL 71']);
});

test('killProcessTree: a found pid that is another process\'s now leads nowhere', async () => {
  // 81 (stopped, child of 80) is killed from elsewhere; its pid goes to an
  // unrelated 81 whose child 82 is not part of the tree.
  let asked = 0;
  const t = fakeTable([[80, 1, 800], [81, 80, 801]], {
    lateStop: new Set([80]),
    onChildren: (tb) => {
      if (++asked !== 3) return;
      tb.live.get(80)!.state = 'T';
      tb.live.set(81, { pid: 81, ppid: 1, startTime: 900, comm: 'x', state: 'S' });
      tb.live.set(82, { pid: 82, ppid: 81, startTime: 901, comm: 'x', state: 'S' });
    },
  });
  assert.deepEqual(await killProcessTree(80, 800, t), [80]);
  assert.deepEqual([...t.live.keys()].sort(), [81, 82]);
  assert.ok(!t.signals.includes('SIGSTOP 82'), t.signals.join(', '));
  assert.equal(t.live.get(82)!.state, 'S');
});

test('killProcessTree on real processes: a shell and the children it waits for', async () => {
  const sh = spawn('sh', ['-c', 'sleep 60 & sleep 60 & wait'], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((r) => sh.once('exit', (_c, s) => r(s)));
  const pid = sh.pid!;
  const start = (await readProcStat(pid))!.startTime;
  // Both children are there.
  let kids: number[] = [];
  for (let i = 0; i < 100 && kids.length < 2; i++) {
    kids = await hostProcTable.children(pid);
    if (kids.length < 2) await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(kids.length, 2);
  const killed = await killProcessTree(pid, start);
  assert.deepEqual(killed.sort(), [pid, ...kids].sort());
  assert.equal(await exited, 'SIGKILL');
  for (const k of kids) {
    for (let i = 0; i < 100 && (await isAlive(k)); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await isAlive(k), false, `child ${k} still runs`);
  }
  // Again: already gone.
  assert.deepEqual(await killProcessTree(pid, start), []);
});
