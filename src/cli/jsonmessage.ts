// Shows a JSON-lines progress stream (pull, push, load, import) as docker's
// jsonmessage does: on a terminal one line per layer id, redrawn in place
// with cursor movement; elsewhere each non-progress status once per line.
import { humanSize } from './units.ts';

export interface JsonProgress {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

export interface JsonMessage {
  stream?: string;
  status?: string;
  progressDetail?: JsonProgress;
  progress?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  aux?: unknown;
}

/** An `error` line in the stream; its message is shown as is. */
export class StreamError extends Error {
  readonly code?: number;
  constructor(message: string, code?: number) {
    super(message);
    this.name = 'StreamError';
    this.code = code;
  }
}

export interface DisplayOptions {
  /** Redraw lines in place (stdout is a terminal). */
  isTerminal: boolean;
  /** Terminal width; bars need more than 110 columns. */
  width?: number;
  /** Messages with `aux` go here instead of the output. */
  onAux?: (aux: unknown, msg: JsonMessage) => void;
  /** Clock for the time-left estimate (ms). */
  now?: () => number;
}

const ESC = '\x1b[';
const clearLine = `${ESC}2K`;
const cursorUp = (n: number) => (n > 0 ? `${ESC}${n}A` : '');
const cursorDown = (n: number) => (n > 0 ? `${ESC}${n}B` : '');

/** Go's time.Duration.String() for whole seconds. */
function goSeconds(total: number): string {
  if (total === 0) return '0s';
  const h = Math.trunc(total / 3600);
  const m = Math.trunc((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** The bar and counts after the status, as docker's JSONProgress.String(). */
export function renderProgress(p: JsonProgress, width: number, nowMs: number = Date.now()): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (percentage > 50) percentage = 50;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = '';
  if (p.hidecounts) {
    // no counts
  } else if (!p.units) {
    numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  } else {
    numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  let timeLeft = '';
  if (width > 50 && current > 0 && (p.start ?? 0) > 0 && percentage < 50) {
    const fromStartNs = (nowMs - p.start! * 1000) * 1e6;
    const perEntry = Math.trunc(fromStartNs / current);
    const leftNs = (total - current) * perEntry;
    timeLeft = ' ' + goSeconds(Math.round(leftNs / 1e9));
  }
  return bar + numbers + timeLeft;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Go's RFC3339NanoFixed in UTC. */
function nanoTime(ns: number): string {
  const d = new Date(Math.trunc(ns / 1e6));
  const frac = pad(Math.trunc(ns % 1e9), 9);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${frac}Z`;
}

/** Renders one message; '' when it is suppressed (a bar off a terminal). */
export function formatMessage(jm: JsonMessage, opts: DisplayOptions): string {
  const width = opts.width ?? 200;
  const now = opts.now ?? Date.now;
  const hasProgress = jm.progressDetail !== undefined && jm.progressDetail !== null;
  const progressText = hasProgress ? renderProgress(jm.progressDetail!, width, now()) : '';
  let out = '';
  let endl = '';
  if (opts.isTerminal && !jm.stream && hasProgress) {
    out += clearLine;
    endl = '\r';
    out += endl;
  } else if (hasProgress && progressText !== '') {
    return ''; // no bars off a terminal
  }
  if (jm.timeNano) out += nanoTime(jm.timeNano) + ' ';
  else if (jm.time) out += nanoTime(jm.time * 1e9) + ' ';
  if (jm.id) out += `${jm.id}: `;
  if (jm.from) out += `(from ${jm.from}) `;
  const status = jm.status ?? '';
  if (hasProgress && opts.isTerminal) out += `${status} ${progressText}${endl}`;
  else if (jm.progress) out += `${status} ${jm.progress}${endl}`;
  else if (jm.stream) out += `${jm.stream}${endl}`;
  else out += `${status}${endl}\n`;
  return out;
}

/** Tracks which line each layer id is on, as docker's DisplayJSONMessagesStream. */
export class ProgressDisplay {
  private ids = new Map<string, number>();

  constructor(
    private readonly write: (s: string) => void,
    private readonly opts: DisplayOptions,
  ) {}

  /** Shows one message; throws StreamError for an error message. */
  show(jm: JsonMessage): void {
    if (jm.aux !== undefined && jm.aux !== null) {
      this.opts.onAux?.(jm.aux, jm);
      return;
    }
    const term = this.opts.isTerminal;
    let diff = 0;
    if (jm.id && (jm.progressDetail || jm.progress)) {
      let line = this.ids.get(jm.id);
      if (line === undefined) {
        line = this.ids.size;
        this.ids.set(jm.id, line);
        if (term) this.write('\n');
      }
      diff = this.ids.size - line;
      if (term) this.write(cursorUp(diff));
    } else {
      // a line that is not progress ends the block of tracked ids
      this.ids.clear();
    }
    const err = jm.errorDetail?.message ?? jm.error;
    if (err !== undefined && err !== '') {
      if (jm.id && term) this.write(cursorDown(diff));
      throw new StreamError(err, jm.errorDetail?.code);
    }
    this.write(formatMessage(jm, this.opts));
    if (jm.id && term) this.write(cursorDown(diff));
  }
}

/** Reads a JSON-lines stream and displays every message. */
export async function displayJsonMessages(
  input: AsyncIterable<Buffer | string>,
  write: (s: string) => void,
  opts: DisplayOptions,
): Promise<void> {
  const display = new ProgressDisplay(write, opts);
  for await (const jm of readJsonMessages(input)) display.show(jm);
}

/** Splits a stream of concatenated JSON objects (newline separated). */
export async function* readJsonMessages(input: AsyncIterable<Buffer | string>): AsyncGenerator<JsonMessage> {
  for await (const line of readLines(input)) {
    try {
      yield JSON.parse(line) as JsonMessage;
    } catch (err) {
      throw new StreamError(`invalid JSON in the progress stream: ${(err as Error).message}`);
    }
  }
}

/** The non-blank lines of a stream, trimmed, as they arrive. */
export async function* readLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of input) {
    buf += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield line;
    }
  }
  buf += decoder.decode();
  if (buf.trim()) yield buf.trim();
}
