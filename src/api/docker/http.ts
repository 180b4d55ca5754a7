// Request decoding with strict validation, and response encoding helpers
// shared by the resource files.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalid, messageOf } from '../../errdefs/index.ts';
import type { AuthConfig } from '../../remotes/types.ts';
import type { Filters } from '../../images/types.ts';
import { streamErrorLine } from './errors.ts';

/** A boolean query parameter. Accepts what docker CLI, docker-py (which
 * sends Python's "True"/"False") and dockerode send; anything else is a 400
 * rather than dockerd's "any other string is true". */
export function queryBool(q: URLSearchParams, name: string, dflt = false): boolean {
  const raw = q.get(name);
  if (raw === null) return dflt;
  const v = raw.trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false' || v === 'no' || v === 'none') return false;
  if (v === '1' || v === 'true' || v === 'yes') return true;
  throw invalid(`invalid boolean value for ${name}: ${JSON.stringify(raw)}`);
}

/** A non-empty query string, or undefined. */
export function queryString(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

/** An integer query parameter, or undefined when absent or empty. */
export function queryInt(q: URLSearchParams, name: string, opts: { min?: number } = {}): number | undefined {
  const raw = queryString(q, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(n)) throw invalid(`invalid value for ${name}: ${JSON.stringify(raw)} is not an integer`);
  if (opts.min !== undefined && n < opts.min) throw invalid(`invalid value for ${name}: ${n} is less than ${opts.min}`);
  return n;
}

/** A Unix timestamp as the CLI sends since/until: "seconds[.nanoseconds]". */
export function queryTimestamp(q: URLSearchParams, name: string): number | undefined {
  const raw = queryString(q, name);
  if (raw === undefined) return undefined;
  if (!/^-?\d+(\.\d{1,9})?$/.test(raw)) throw invalid(`invalid value for ${name}: ${JSON.stringify(raw)} is not a Unix timestamp`);
  return Number(raw);
}

/** The `filters` parameter: JSON in either of the two shapes Docker accepts,
 * {"label":["a=b"]} or the older {"label":{"a=b":true}} (which the docker CLI
 * still sends). */
export function queryFilters(q: URLSearchParams, name = 'filters'): Filters | undefined {
  const raw = queryString(q, name);
  if (raw === undefined) return undefined;
  return parseFilters(raw);
}

export function parseFilters(raw: string): Filters {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw invalid(`invalid filter: invalid JSON: ${messageOf(err)}`, err);
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('invalid filter: expected a JSON object');
  const out: Filters = {};
  for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
    if (Array.isArray(val) && val.every((x) => typeof x === 'string')) {
      out[key] = val as string[];
    } else if (val && typeof val === 'object' && !Array.isArray(val) && Object.values(val).every((x) => typeof x === 'boolean')) {
      out[key] = Object.entries(val as Record<string, boolean>)
        .filter(([, on]) => on)
        .map(([k]) => k);
    } else {
      throw invalid(`invalid filter: ${JSON.stringify(key)} must be a list of strings`);
    }
  }
  return out;
}

const MAX_JSON_BODY = 10 * 1024 * 1024;

/** Reads and parses a JSON body. An empty body is `undefined`. */
export async function readJson(req: IncomingMessage, maxBytes = MAX_JSON_BODY): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw invalid(`request body larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid(`invalid JSON: ${messageOf(err)}`, err);
  }
}

const AUTH_KEYS = ['username', 'password', 'auth', 'serveraddress', 'identitytoken', 'registrytoken'] as const;

/** An AuthConfig from a decoded JSON object. Keys match case-insensitively,
 * as Go's JSON decoding does ("Username" and "username" both work). Returns
 * undefined when no credential is set. */
export function toAuthConfig(v: unknown): AuthConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('invalid auth config: expected a JSON object');
  const out: AuthConfig = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const key = AUTH_KEYS.find((a) => a === k.toLowerCase());
    if (!key || val === null || val === undefined) continue; // email and unknown fields are ignored
    if (typeof val !== 'string') throw invalid(`invalid auth config: ${k} must be a string`);
    if (val !== '') out[key] = val;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** A header holding base64url (docker CLI, docker-py) or standard base64,
 * padded or not, of JSON; undefined when absent or empty. */
export function decodeBase64JsonHeader(header: string | string[] | undefined, name: string): unknown {
  const s = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!s) return undefined;
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) throw invalid(`invalid ${name} header: not base64`);
  const text = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid(`invalid ${name} header: invalid JSON: ${messageOf(err)}`, err);
  }
}

/** Decodes X-Registry-Auth, a JSON AuthConfig. '' and '{}' mean none. */
export function decodeRegistryAuth(header: string | string[] | undefined): AuthConfig | undefined {
  const v = decodeBase64JsonHeader(header, 'X-Registry-Auth');
  return v === undefined ? undefined : toAuthConfig(v);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** A status with no body: 204 and 304 for the lifecycle verbs, 200 where
 * dockerd answers an empty 200 (resize, archive upload, detached exec). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.statusCode = status;
  res.end();
}

export function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** A response of JSON lines (pull, push, load, import, events). It sends the
 * 200 header with the first line — as dockerd does, so an error before any
 * output still gets its proper status — or at once when `start()` is called.
 * Each line is written (and so flushed, as a chunk) on its own. */
export class JsonLineStream {
  private started = false;
  constructor(private readonly res: ServerResponse) {}

  get hasStarted(): boolean {
    return this.started;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.res.statusCode = 200;
    this.res.setHeader('Content-Type', 'application/json');
    this.res.flushHeaders();
  }

  writeLine(line: string): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.start();
    this.res.write(line);
  }

  write(obj: unknown): void {
    this.writeLine(JSON.stringify(obj) + '\n');
  }

  end(): void {
    if (this.res.writableEnded) return;
    this.start();
    this.res.end();
  }

  /** Ends the stream with an error: as an errorDetail line when output has
   * begun; otherwise rethrows so that the caller answers with a status. */
  fail(err: unknown): void {
    if (!this.started) throw err;
    this.writeLine(streamErrorLine(err));
    this.end();
  }
}
