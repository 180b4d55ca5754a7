// Reading answers from stdin: a line at a time, and a password without echo.
import type { InStream, OutStream } from './context.ts';
import { StatusError } from './errors.ts';

/** Reads lines from a stream across calls, leaving the rest unread. */
export class LineReader {
  private buf = '';
  private ended = false;
  private waiting?: () => void;
  private readonly onData = (chunk: Buffer | string) => {
    this.buf += chunk.toString();
    this.waiting?.();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.waiting?.();
  };

  constructor(private readonly input: InStream) {}

  async readLine(): Promise<string | undefined> {
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.resume?.();
    try {
      for (;;) {
        const nl = this.buf.indexOf('\n');
        if (nl >= 0) {
          const line = this.buf.slice(0, nl);
          this.buf = this.buf.slice(nl + 1);
          return line.replace(/\r$/, '');
        }
        if (this.ended) {
          const rest = this.buf;
          this.buf = '';
          return rest === '' ? undefined : rest;
        }
        await new Promise<void>((resolve) => (this.waiting = resolve));
        this.waiting = undefined;
      }
    } finally {
      this.input.removeListener('data', this.onData);
      this.input.removeListener('end', this.onEnd);
      this.input.pause?.();
    }
  }
}

/** Writes a question and reads the answer line (trimmed). */
export async function readInput(reader: LineReader, out: OutStream, message: string): Promise<string> {
  out.write(message);
  return (await reader.readLine())?.trim() ?? '';
}

/** docker's prompt.Confirm: true only for "y" or "Y". */
export async function confirm(input: InStream, out: OutStream, message: string): Promise<boolean> {
  out.write(`${message} [y/N] `);
  const answer = (await new LineReader(input).readLine())?.trim() ?? '';
  return answer.toLowerCase() === 'y';
}

/** Reads a line with the terminal's echo off (raw mode), for passwords. */
export async function readPassword(input: InStream, out: OutStream, message: string, reader: LineReader): Promise<string> {
  out.write(message);
  if (!input.isTTY || !input.setRawMode) return (await reader.readLine())?.trim() ?? '';
  input.setRawMode(true);
  try {
    let value = '';
    for (;;) {
      const chunk = await new Promise<string>((resolve) => {
        const on = (c: Buffer | string) => {
          input.removeListener('data', on);
          resolve(c.toString());
        };
        input.on('data', on);
        input.resume?.();
      });
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\x04') return value.trim();
        if (ch === '\x03') throw new StatusError('', 130);
        if (ch === '\x7f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    }
  } finally {
    input.setRawMode(false);
    input.pause?.();
    out.write('\n');
  }
}

/** Reads all of stdin (for --password-stdin). */
export async function readAll(input: InStream): Promise<string> {
  let s = '';
  for await (const chunk of input) s += chunk.toString();
  return s;
}
