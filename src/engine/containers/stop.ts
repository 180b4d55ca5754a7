// stop, kill, restart.
import { conflict, invalid } from '../../errdefs/index.ts';
import type { ContainerContext } from './context.ts';
import { findContainer } from './lookup.ts';
import type { ContainerRecord } from './record.ts';
import { startLocked } from './start.ts';
import { waitForExit } from './wait.ts';

const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13,
  ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25,
  VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

/** "SIGTERM", "TERM", "15", "SIGRTMIN+3" -> a signal number. */
export function parseSignal(s: string | number | undefined, fallback = 15): number {
  if (s === undefined || s === '') return fallback;
  if (typeof s === 'number') return s;
  const t = s.trim().toUpperCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n < 1 || n > 64) throw invalid(`invalid signal: ${s}`);
    return n;
  }
  const name = t.replace(/^SIG/, '');
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const base = name.startsWith('RTMIN') ? 34 + Number(rt[1] ?? 0) : 64 - Number(rt[1] ?? 0);
    if (base < 34 || base > 64) throw invalid(`invalid signal: ${s}`);
    return base;
  }
  const n = SIGNALS[name];
  if (!n) throw invalid(`invalid signal: ${s}`);
  return n;
}

/** Signals a running container and waits for its exit (SIGKILL after the timeout). */
export async function stopRunning(cx: ContainerContext, c: ContainerRecord, opts: { timeout?: number; signal?: string }): Promise<void> {
  const rt = cx.runtimeOf(c);
  const sig = parseSignal(opts.signal || c.config.StopSignal || 'SIGTERM');
  const timeout = opts.timeout ?? c.config.StopTimeout ?? 10;
  if (c.state.Paused) await rt.resume(c.id).catch(() => undefined);
  const exited = waitForExit(cx, c.id);
  if (timeout !== 0) {
    await rt.kill(c.id, sig).catch(() => undefined);
    if (timeout < 0 || (await exited.within(timeout * 1000))) return;
  }
  await rt.kill(c.id, 9, { all: true }).catch(() => undefined);
  if (!(await exited.within(10_000))) throw conflict(`container ${c.name} did not stop after SIGKILL`);
}

export async function stopContainer(cx: ContainerContext, idOrName: string, opts: { timeout?: number; signal?: string } = {}): Promise<boolean> {
  const c = findContainer(cx, idOrName);
  if (opts.signal) parseSignal(opts.signal);
  const t = cx.restartTimers.get(c.id);
  if (t) {
    clearTimeout(t);
    cx.restartTimers.delete(c.id);
  }
  c.manuallyStopped = true;
  if (!c.state.Running) {
    if (c.state.Restarting) {
      c.state = { ...c.state, Restarting: false, Status: 'exited' };
    }
    cx.store.save(c);
    return false;
  }
  cx.store.save(c);
  await stopRunning(cx, c, opts);
  cx.deps.events.publish({ Type: 'container', Action: 'stop', Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef } }, status: 'stop', id: c.id, from: c.imageRef });
  return true;
}

export async function killContainer(cx: ContainerContext, idOrName: string, signal?: string): Promise<void> {
  const c = findContainer(cx, idOrName);
  const sig = parseSignal(signal, 9);
  if (!c.state.Running) throw conflict(`Cannot kill container: ${idOrName}: Container ${c.id} is not running`);
  if (sig === 9) {
    // Docker: an explicit kill is a manual stop for the restart policy.
    c.manuallyStopped = true;
    cx.store.save(c);
  }
  await cx.runtimeOf(c).kill(c.id, sig, { all: sig === 9 });
  cx.deps.events.publish({ Type: 'container', Action: 'kill', Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef, signal: String(sig) } }, status: 'kill', id: c.id, from: c.imageRef });
}

export async function restartContainer(cx: ContainerContext, idOrName: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
  const c = findContainer(cx, idOrName);
  if (c.state.Running) await stopRunning(cx, c, opts);
  await cx.lock(c.id, async () => {
    const fresh = cx.store.get(c.id);
    if (!fresh || fresh.state.Running) return;
    await startLocked(cx, fresh);
  });
  cx.deps.events.publish({ Type: 'container', Action: 'restart', Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef } }, status: 'restart', id: c.id, from: c.imageRef });
}
