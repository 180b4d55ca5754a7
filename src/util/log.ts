// Structured logs: one JSON object per line on stderr, with a level and,
// inside a request, its id. Cheap when the level filters a line out.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (e.g. { req: id }). */
  child(fields: Record<string, unknown>): Logger;
}

let threshold = ORDER.info;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void {
  threshold = ORDER[level];
}

export function isLogLevel(s: string): s is LogLevel {
  return s in ORDER;
}

/** Tests capture lines here. */
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

function emit(level: LogLevel, base: Record<string, unknown>, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
  const rec: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...base, ...fields };
  for (const [k, v] of Object.entries(rec)) if (v instanceof Error) rec[k] = v.message;
  sink(JSON.stringify(rec));
}

export function logger(base: Record<string, unknown> = {}): Logger {
  return {
    debug: (m, f) => emit('debug', base, m, f),
    info: (m, f) => emit('info', base, m, f),
    warn: (m, f) => emit('warn', base, m, f),
    error: (m, f) => emit('error', base, m, f),
    child: (f) => logger({ ...base, ...f }),
  };
}

export const log = logger();
