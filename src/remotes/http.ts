// HTTP for the registry client on node:http/node:https: keep-alive agents,
// an idle timeout, redirects, and bodies as Node streams (layers are large;
// a stream straight off the socket is the fast path).
import http from 'node:http';
import https from 'node:https';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { unavailable } from '../errdefs/index.ts';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A factory, so that a redirect or a retry can send the body again. */
  body?: () => Readable | Buffer;
  /** https without certificate verification (insecure registries). */
  insecureTls?: boolean;
  signal?: AbortSignal;
  /** false: hand 3xx answers back instead of following them. */
  followRedirects?: boolean;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** Where the answer came from, after redirects. */
  url: URL;
  method: string;
  body: http.IncomingMessage;
}

const MAX_REDIRECTS = 10;
const FREE_SOCKET_TIMEOUT_MS = 4_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class HttpTransport {
  readonly userAgent: string;
  readonly timeoutMs: number;
  #agents: { http?: http.Agent; https?: https.Agent; insecure?: https.Agent } = {};

  constructor(userAgent: string, timeoutMs: number) {
    this.userAgent = userAgent;
    this.timeoutMs = timeoutMs;
  }

  #agent(url: URL, insecureTls: boolean): http.Agent {
    const a = this.#agents;
    // Idle pooled sockets are dropped before servers commonly drop them
    // (5 s is Node's own server default), so reuse rarely meets a reset.
    const opts = { keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS };
    if (url.protocol === 'http:') return (a.http ??= new http.Agent(opts));
    if (insecureTls) return (a.insecure ??= new https.Agent({ ...opts, rejectUnauthorized: false }));
    return (a.https ??= new https.Agent(opts));
  }

  /** Sends a request and resolves when the status and headers arrive. Network
   * failures reject with the Node error (its `code` tells what failed). */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let { method, url, body } = req;
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...lowerKeys(req.headers ?? {}) };
    for (let hops = 0; ; hops++) {
      const res = await this.#once(method, url, headers, body, req);
      const location = res.headers.location;
      if (req.followRedirects === false || !REDIRECTS.has(res.statusCode ?? 0) || !location) {
        return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, url, method, body: res };
      }
      res.resume();
      if (hops >= MAX_REDIRECTS) throw unavailable(`too many redirects from ${req.url.host} (last ${url.href})`);
      const next = new URL(location, url);
      // Blob downloads are redirected to storage on other hosts, which must
      // not see the registry's credentials.
      if (next.host !== url.host || (url.protocol === 'https:' && next.protocol !== 'https:')) delete headers.authorization;
      const status = res.statusCode;
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        delete headers['content-length'];
        delete headers['content-type'];
      }
      url = next;
    }
  }

  #once(
    method: string,
    url: URL,
    headers: Record<string, string>,
    bodyOf: (() => Readable | Buffer) | undefined,
    req: HttpRequest,
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const mod = url.protocol === 'https:' ? https : http;
      const body = bodyOf?.();
      let response: http.IncomingMessage | undefined;
      // Node ends an aborted response with a bare "aborted"; readers of a
      // blob should see the abort itself.
      const signal = req.signal;
      const onAbort = () => response?.destroy(signal?.reason instanceof Error ? signal.reason : abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      const forget = () => signal?.removeEventListener('abort', onAbort);
      const creq = mod.request(url, {
        method,
        headers,
        agent: this.#agent(url, req.insecureTls ?? false),
        signal: req.signal,
        timeout: this.timeoutMs,
      });
      // An idle timeout: it covers connecting and waiting for headers, and
      // also a body that stalls halfway.
      creq.on('timeout', () => {
        const err = Object.assign(new Error(`no answer from ${url.host} for ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' });
        if (response) response.destroy(err);
        else creq.destroy(err);
      });
      creq.on('error', (err) => {
        forget();
        if (body instanceof Readable) body.destroy();
        reject(err);
      });
      creq.on('response', (res) => {
        response = res;
        res.on('close', forget);
        if (body instanceof Readable && !body.readableEnded) {
          body.unpipe(creq);
          body.destroy();
        }
        resolve(res);
      });
      if (body === undefined) creq.end();
      else if (Buffer.isBuffer(body)) creq.end(body);
      else {
        body.on('error', (err) => creq.destroy(err));
        body.pipe(creq);
      }
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    for (const agent of Object.values(this.#agents)) agent?.destroy();
    this.#agents = {};
  }
}

function abortError(): Error {
  return Object.assign(new Error('the operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

/** Reads a whole (small) body; rejects past `limit` bytes without buffering more. */
export async function readBody(res: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.destroy();
      throw Object.assign(new Error(`body larger than ${limit} bytes`), { code: 'ETOOBIG' });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Throws away a body we do not need, so the connection can be reused. */
export function discard(res: HttpResponse): void {
  res.body.resume();
  res.body.on('error', () => {});
}

/** Drops the first `n` bytes of a stream (a server that ignored Range). */
export function skipBytes(n: number): Transform {
  let left = n;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      if (left >= chunk.length) {
        left -= chunk.length;
        cb();
        return;
      }
      const out = left > 0 ? chunk.subarray(left) : chunk;
      left = 0;
      cb(null, out);
    },
  });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPROTO',
]);

/** Errors from the connection itself (not from an HTTP answer): worth a
 * retry, a fallback to plain http, or the next mirror. */
export function isNetworkError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; name?: string };
  if (e.name === 'AbortError' || typeof e.code !== 'string') return false;
  const code = e.code;
  return NETWORK_CODES.has(code) || /^(ERR_SSL_|ERR_TLS_|HPE_)/.test(code) || code.includes('CERT');
}

export function isConnectionReset(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}
