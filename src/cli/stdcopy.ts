// docker's stdcopy: a non-tty container's output arrives as frames of an
// 8-byte header (stream byte, three zero bytes, big-endian length) and the
// payload; stream 1 is stdout, 2 stderr, 3 an error from the daemon.

const HEADER = 8;

export type Sink = (chunk: Buffer) => void | Promise<void>;

/** An error the daemon sent in-band (stream 3): docker ends the copy with it. */
export class StreamSystemError extends Error {
  constructor(message: string) {
    super(`error from daemon in stream: ${message}`);
    this.name = 'StreamSystemError';
  }
}

/** Splits a multiplexed byte stream into stdout and stderr. Frames may be
 * cut anywhere across chunks. */
export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(
    private readonly stdout: Sink | undefined,
    private readonly stderr: Sink | undefined,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= HEADER) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < HEADER + size) return;
      const stream = this.buf[0];
      const payload = this.buf.subarray(HEADER, HEADER + size);
      this.buf = this.buf.subarray(HEADER + size);
      switch (stream) {
        case 0:
        case 1:
          await this.stdout?.(payload);
          break;
        case 2:
          await this.stderr?.(payload);
          break;
        case 3:
          throw new StreamSystemError(payload.toString('utf8'));
        default:
          throw new Error(`Unrecognized input header: ${stream}`);
      }
    }
  }
}

/** Copies a multiplexed stream to the two sinks until it ends. */
export async function demultiplex(input: AsyncIterable<Buffer | string> | Iterable<Buffer>, stdout: Sink | undefined, stderr: Sink | undefined): Promise<void> {
  const d = new Demuxer(stdout, stderr);
  for await (const chunk of input) await d.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
}

/** One frame, as the daemon writes it (for tests and fakes). */
export function frame(stream: 1 | 2 | 3, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const head = Buffer.alloc(HEADER);
  head[0] = stream;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}
