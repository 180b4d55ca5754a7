// docker attach (and the attach that `docker run` makes before it starts the
// container). conmon's attach socket appears when the container is created
// and replays nothing, so a session made before start connects between
// `runc create` and `runc start`, and no output is lost.
import { join } from 'node:path';
import { is } from '../../errdefs/index.ts';
import { AttachConnection } from '../../sys/attach.ts';
import { AsyncQueue } from '../../util/async-queue.ts';
import { log } from '../../util/log.ts';
import type { ContainerContext } from './context.ts';
import { containerLogs } from './logs.ts';
import { findContainer } from './lookup.ts';
import type { AttachSession } from './types.ts';

export interface AttachRequest {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  stream?: boolean;
  logs?: boolean;
  detachKeys?: string;
}

/** Joins a live attach connection to a session's queue and stdin. */
export class AttachPipe {
  readonly output = new AsyncQueue<{ stream: 1 | 2; data: Buffer }>();
  private conn: AttachConnection | undefined;
  private readonly pendingStdin: Buffer[] = [];
  private stdinClosed = false;
  private closed = false;

  constructor(
    private readonly want: { stdout: boolean; stderr: boolean; stdin: boolean },
    private readonly tty: boolean,
  ) {}

  async connect(socket: string): Promise<void> {
    if (this.closed) return;
    const conn = await AttachConnection.connect(socket);
    this.conn = conn;
    for (const b of this.pendingStdin.splice(0)) await conn.write(b);
    if (this.stdinClosed) await conn.closeStdin();
    void (async () => {
      try {
        for await (const p of conn.packets()) {
          const stream = this.tty ? 1 : p.stream;
          if (stream === 1 ? this.want.stdout : this.want.stderr) this.output.push({ stream, data: p.data });
        }
        this.output.end();
      } catch (e) {
        this.output.end(e);
      }
    })();
  }

  writeStdin(data: Buffer): void {
    if (!this.want.stdin || this.stdinClosed) return;
    if (this.conn) this.conn.write(data).catch((e) => log.debug('attach stdin write failed', { err: e }));
    else this.pendingStdin.push(data);
  }

  closeStdin(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.conn?.closeStdin().catch(() => undefined);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn?.close();
    this.output.end();
  }

  session(onClose: () => void): AttachSession {
    return {
      tty: this.tty,
      output: this.output,
      ...(this.want.stdin ? { writeStdin: (d: Buffer) => this.writeStdin(d), closeStdin: () => this.closeStdin() } : {}),
      close: () => {
        onClose();
        this.close();
      },
    };
  }
}

export async function attachContainer(cx: ContainerContext, idOrName: string, req: AttachRequest): Promise<AttachSession> {
  const c = findContainer(cx, idOrName);
  const tty = !!c.config.Tty;
  const pipe = new AttachPipe({ stdout: !!req.stdout, stderr: !!req.stderr, stdin: !!req.stdin && !!c.config.OpenStdin }, tty);
  const cleanups: Array<() => void> = [];
  const session = pipe.session(() => cleanups.forEach((f) => f()));

  if (req.logs) {
    const { entries } = await containerLogs(cx, c.id, { stdout: req.stdout, stderr: req.stderr });
    for await (const e of entries) pipe.output.push({ stream: tty ? 1 : e.stream, data: e.data });
  }
  if (req.stream === false) {
    pipe.output.end();
    return session;
  }
  if (c.state.Running) {
    try {
      await pipe.connect(join(cx.paths(c.id).bundle, 'attach'));
    } catch (e) {
      // It exited between the look and the connect (conmon took its socket
      // with it): nothing more will come, as from a stopped container. Clients
      // that attach after start meet this with short-lived containers
      // (docker-compose run through dockerpty attaches only then).
      if (!is(e, 'not-found') && !is(e, 'unavailable')) throw e;
      log.debug('attach: the container is gone', { id: c.id, err: e });
      pipe.output.end();
    }
    return session;
  }
  // Not started yet: connect when it is, before its process runs.
  cleanups.push(cx.onBeforeStart(c.id, (socket) => pipe.connect(socket)));
  // A start that fails ends the session.
  cleanups.push(cx.onNextExit(c.id, () => pipe.close()));
  return session;
}
