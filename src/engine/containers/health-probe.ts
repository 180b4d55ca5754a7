// Health checks, the probe: an ordinary exec in the container (so the
// exec_create / exec_start / exec_die events appear, as with dockerd), its
// output collected up to Docker's limit, then forgotten like dockerd forgets
// its probe execs.
import { log } from '../../util/log.ts';
import type { ContainerContext } from './context.ts';
import { execCreate, execStart } from './exec.ts';
import { LimitedOutput } from './health.ts';
import type { RunProbe } from './health-monitor.ts';

export function execProbe(cx: ContainerContext): RunProbe {
  return async (c, argv, signal) => {
    const { Id } = await execCreate(cx, c.id, { Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
    const out = new LimitedOutput();
    // At the timeout: the probe's process and whatever it started.
    const kill = () => {
      const ex = cx.execs.get(Id);
      if (ex?.running) void ex.kill?.().catch((e) => log.warn('killing a health probe failed', { container: c.id, err: e }));
    };
    try {
      const session = await execStart(cx, Id, { Detach: false, Tty: false });
      signal.addEventListener('abort', kill, { once: true });
      if (signal.aborted) kill();
      // Ends once the process has exited and its exit code is recorded.
      if (session) for await (const p of session.output) out.write(p.data);
      return { exitCode: cx.execs.get(Id)?.exitCode ?? -1, output: out.toString() };
    } finally {
      signal.removeEventListener('abort', kill);
      // Its directory goes with every exec's at the exit (exec.ts); the record now.
      cx.execs.delete(Id);
    }
  };
}
