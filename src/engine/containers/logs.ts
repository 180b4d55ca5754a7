// docker logs: conmon writes the k8s-file format; this reads it back as
// Docker's entries (stream, time, line), with tail, since/until and follow.
import { createReadStream, watch } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { ContainerContext } from './context.ts';
import { findContainer } from './lookup.ts';
import { logPathOf } from './record.ts';
import { logFiles, rotateIfFull, rotationPolicy } from './logrotate.ts';
import type { LogEntry, LogOptions } from './types.ts';

/** Parses one k8s-file line: "<RFC3339Nano> <stdout|stderr> <P|F> <content>". */
export function parseK8sLine(line: string): { time: string; stream: 1 | 2; partial: boolean; content: string } | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  return {
    time: toUtc(line.slice(0, a)),
    stream: stream === 'stdout' ? 1 : 2,
    partial: tag.startsWith('P'),
    content: c < 0 ? '' : line.slice(c + 1),
  };
}

/** conmon writes local time with an offset; Docker prints UTC with "Z". */
function toUtc(ts: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return ts;
  if (m[3] === 'Z' || m[3] === '+00:00') return `${m[1]}${m[2] ?? ''}Z`;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return new Date(ms).toISOString().slice(0, 19) + (m[2] ?? '') + 'Z';
}

function unixOf(time: string): number {
  const m = /^(.*?)(\.\d+)?Z$/.exec(time);
  const base = Date.parse(m ? `${m[1]}Z` : time) / 1000;
  return base + (m?.[2] ? Number(`0${m[2]}`) : 0);
}

/** Joins partial lines with what follows them on the same stream. */
class Assembler {
  private readonly pending: Record<1 | 2, { time: string; parts: string[] } | undefined> = { 1: undefined, 2: undefined };
  push(line: string): LogEntry | undefined {
    const p = parseK8sLine(line);
    if (!p) return undefined;
    const cur = this.pending[p.stream];
    if (p.partial) {
      if (cur) cur.parts.push(p.content);
      else this.pending[p.stream] = { time: p.time, parts: [p.content] };
      return undefined;
    }
    this.pending[p.stream] = undefined;
    const text = cur ? cur.parts.join('') + p.content : p.content;
    return { stream: p.stream, time: cur?.time ?? p.time, data: Buffer.from(text + '\n') };
  }
  /** What is left at the end: a last line without a newline. */
  flush(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const s of [1, 2] as const) {
      const cur = this.pending[s];
      if (cur) out.push({ stream: s, time: cur.time, data: Buffer.from(cur.parts.join('')) });
      this.pending[s] = undefined;
    }
    return out;
  }
}

async function* readLines(file: string | FileHandle, start: number, end: number): AsyncGenerator<string> {
  if (end <= start) return;
  const stream = typeof file === 'string' ? createReadStream(file, { start, end: end - 1 }) : createReadStream('', { fd: file, start, end: end - 1, autoClose: false });
  const dec = new StringDecoder('utf8');
  let buf = '';
  for await (const chunk of stream) {
    buf += dec.write(chunk as Buffer);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  buf += dec.end();
  if (buf) yield buf;
}

async function openIfThere(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0);
}

export async function containerLogs(cx: ContainerContext, idOrName: string, opts: LogOptions & { signal?: AbortSignal }): Promise<{ tty: boolean; entries: AsyncIterable<LogEntry> }> {
  const c = findContainer(cx, idOrName);
  const logPath = logPathOf(c, cx.paths(c.id));
  const wantStdout = opts.stdout ?? true;
  const wantStderr = opts.stderr ?? true;
  const wanted = (e: LogEntry) => {
    if (e.stream === 1 ? !wantStdout : !wantStderr) return false;
    const t = unixOf(e.time);
    if (opts.since !== undefined && opts.since > 0 && t < opts.since) return false;
    if (opts.until !== undefined && opts.until > 0 && t > opts.until) return false;
    return true;
  };
  // Rotate first, so that what is read is what the policy keeps.
  await rotateIfFull(cx, c).catch(() => false);
  const policy = rotationPolicy(c);
  const rotated = policy ? logFiles(logPath, policy.maxFiles).slice(1).reverse() : [];
  async function* entries(): AsyncGenerator<LogEntry> {
    // The live file is held open from here on: a rotation renames it, and
    // follow drains it before moving on to the new one.
    let fh = await openIfThere(logPath);
    try {
      const size = fh ? (await fh.stat()).size : 0;
      const asm = new Assembler();
      const tail = opts.tail === undefined || opts.tail === 'all' ? Infinity : opts.tail;
      if (tail > 0) {
        const ring: LogEntry[] = [];
        const keep = (e: LogEntry | undefined) => {
          if (!e || !wanted(e)) return;
          ring.push(e);
          if (ring.length > tail) ring.shift();
        };
        for (const old of rotated) for await (const line of readLines(old, 0, await sizeOf(old))) keep(asm.push(line));
        if (fh) for await (const line of readLines(fh, 0, size)) keep(asm.push(line));
        if (!opts.follow) for (const e of asm.flush()) if (wanted(e)) ring.push(e);
        yield* ring.slice(Math.max(0, ring.length - tail));
      }
      if (!opts.follow) return;
      // Follow: read what is appended until the container stops and the file is drained.
      let offset = size;
      let carry = '';
      let woke: (() => void) | undefined;
      const watcher = (() => {
        try {
          return watch(dirname(logPath), () => woke?.());
        } catch {
          return undefined;
        }
      })();
      try {
        for (;;) {
          if (opts.signal?.aborted) return;
          if (!fh) fh = await openIfThere(logPath);
          const cur = fh ? (await fh.stat()).size : 0;
          if (cur < offset) offset = 0; // truncated in place: start over
          if (fh && cur > offset) {
            const buf = Buffer.alloc(cur - offset);
            await fh.read(buf, 0, buf.length, offset);
            offset = cur;
            const text = carry + buf.toString('utf8');
            const lines = text.split('\n');
            carry = lines.pop() ?? '';
            for (const line of lines) {
              const e = asm.push(line);
              if (e && wanted(e)) yield e;
            }
            continue;
          }
          // Drained: if the path now names another file (rotated, or conmon's
          // reopen replaced it), go on with that one from its start.
          const live = await stat(logPath).catch(() => undefined);
          const mine = fh ? await fh.stat() : undefined;
          if (live && (!mine || live.ino !== mine.ino)) {
            // conmon writes to the new file only: drain the old one first.
            if (mine && mine.size > offset) continue;
            await fh?.close();
            fh = await openIfThere(logPath);
            offset = 0;
            continue;
          }
          const now = cx.store.get(c.id);
          if (!now || (!now.state.Running && !now.state.Restarting)) {
            for (const e of asm.flush()) if (wanted(e)) yield e;
            return;
          }
          if (opts.until !== undefined && opts.until > 0 && Date.now() / 1000 > opts.until) return;
          await new Promise<void>((r) => {
            woke = r;
            setTimeout(r, 250);
            opts.signal?.addEventListener('abort', () => r(), { once: true });
          });
          woke = undefined;
        }
      } finally {
        watcher?.close();
      }
    } finally {
      await fh?.close();
    }
  }
  return { tty: !!c.config.Tty, entries: entries() };
}
