// An HTTP client for joeyd's Docker Engine API, over a unix socket or TCP
// (optionally TLS). Negotiates the API version once, on first use, and turns
// error responses back into typed errors with the daemon's message.
import http from 'node:http';
import { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import type { IncomingMessage, IncomingHttpHeaders } from 'node:http';
import { JoeyError } from '../errdefs/index.ts';
import type { ErrorKind } from '../errdefs/index.ts';
import { parseHost } from './host.ts';
import type { ParsedHost } from './host.ts';

/** The newest API version this client speaks. */
export const API_VERSION = '1.47';

export interface TlsOptions {
  /** Verify the daemon's certificate (against `ca`, else the system roots). */
  verify: boolean;
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
}

export interface ApiClientOptions {
  /** unix:///path or tcp://host:port */
  host: string;
  /** Use TLS on tcp:// hosts. */
  tls?: TlsOptions;
  /** Pin the API version and skip negotiation. */
  version?: string;
  userAgent?: string;
  /** Receives one line per request when debugging. */
  debug?: (line: string) => void;
}

export type QueryValue = string | number | boolean | string[] | Record<string, string[]> | undefined | null;
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  headers?: Record<string, string>;
  /** Buffer/string sent as is, Readable streamed, anything else sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
}

/** How an HTTP status maps back to an error kind: the inverse of the
 * adapter's table, kept in this one place. */
const STATUS_KINDS: Record<number, ErrorKind> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  412: 'failed-precondition',
  500: 'internal',
  501: 'not-implemented',
  502: 'unavailable',
  503: 'unavailable',
  504: 'deadline-exceeded',
};

export function kindForStatus(status: number): ErrorKind {
  const k = STATUS_KINDS[status];
  if (k) return k;
  if (status >= 400 && status < 500) return 'invalid';
  return 'internal';
}

/** A non-2xx answer from the daemon; `message` is the daemon's own. */
export class ApiError extends JoeyError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(kindForStatus(status), message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** The daemon could not be reached at all. */
export class ConnectionError extends JoeyError {
  constructor(message: string, cause?: unknown) {
    super('unavailable', message, cause === undefined ? undefined : { cause });
    this.name = 'ConnectionError';
  }
}

/** Compares dotted API versions numerically ("1.9" < "1.47"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Escapes a name for a URL path, keeping the "/", ":" and "@" that image
 * references carry (the daemon routes `/images/{name:.*}/json`). */
export function escapePath(name: string): string {
  return encodeURIComponent(name).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%40/g, '@');
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, item);
    else if (typeof v === 'boolean') params.append(k, v ? '1' : '0');
    else if (typeof v === 'object') params.append(k, JSON.stringify(v));
    else params.append(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** A hijacked connection (attach, exec start): after the daemon's 101 the
 * socket carries the process's stdin one way and its output the other. */
export interface HijackedConnection {
  socket: Socket;
  /** The daemon's Content-Type: docker's raw or multiplexed stream type. */
  mediaType: string;
  /** Half-closes: the daemon sees the end of stdin, output keeps coming. */
  closeWrite(): void;
  close(): void;
}

export interface PingResult {
  apiVersion?: string;
  osType?: string;
  experimental: boolean;
  headers: IncomingHttpHeaders;
}

/** How requests go out: node:http, or node:https (loaded only for TLS: it
 * costs the CLI's start-up milliseconds). */
interface Transport {
  request: typeof http.request;
  agent: http.Agent;
}

export class ApiClient {
  readonly host: string;
  private readonly target: ParsedHost;
  private transport?: Promise<Transport>;
  private agent?: http.Agent;
  private readonly tls?: TlsOptions;
  private readonly userAgent: string;
  private readonly debug?: (line: string) => void;
  private version?: string;
  private negotiating?: Promise<string>;

  constructor(opts: ApiClientOptions) {
    this.target = parseHost(opts.host, { tls: !!opts.tls });
    this.host = this.target.url;
    this.tls = this.target.proto === 'tcp' ? opts.tls : undefined;
    this.userAgent = opts.userAgent ?? 'joey-cli';
    this.debug = opts.debug;
    this.version = opts.version;
  }

  private getTransport(): Promise<Transport> {
    // One connection reused from the ping to the real request.
    this.transport ??= this.tls
      ? import('node:https').then((https) => ({ request: https.request, agent: (this.agent = new https.Agent({ keepAlive: true })) }))
      : Promise.resolve({ request: http.request, agent: (this.agent = new http.Agent({ keepAlive: true })) });
    return this.transport;
  }

  /** The API version in use, negotiating it on first call. */
  apiVersion(): Promise<string> {
    if (this.version) return Promise.resolve(this.version);
    this.negotiating ??= this.ping().then(
      (p) => {
        const server = p.apiVersion;
        this.version = server && compareVersions(server, API_VERSION) < 0 ? server : API_VERSION;
        return this.version;
      },
      (err: unknown) => {
        this.negotiating = undefined;
        // A daemon that answers but not /_ping gets our version.
        if (err instanceof ApiError) return (this.version = API_VERSION);
        throw err;
      },
    );
    return this.negotiating;
  }

  async ping(signal?: AbortSignal): Promise<PingResult> {
    const res = await this.send('GET', '/_ping', { signal });
    const headers = res.headers;
    const result: PingResult = {
      apiVersion: header(headers, 'api-version'),
      osType: header(headers, 'ostype'),
      experimental: header(headers, 'docker-experimental') === 'true',
      headers,
    };
    // docker reads the version even from a 500 ping (daemon up, unhealthy)
    if (res.statusCode === 500 && result.apiVersion) {
      res.resume();
      return result;
    }
    await checkResponse(res);
    res.resume();
    return result;
  }

  async get<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    return readJson<T>(await this.stream('GET', path, opts));
  }

  async post<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    return readJson<T>(await this.stream('POST', path, opts));
  }

  async delete<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    return readJson<T>(await this.stream('DELETE', path, opts));
  }

  async head(path: string, opts: RequestOptions = {}): Promise<{ status: number; headers: IncomingHttpHeaders }> {
    const res = await this.stream('HEAD', path, opts);
    res.resume();
    return { status: res.statusCode ?? 0, headers: res.headers };
  }

  /** The raw response of a versioned request, after a status check: for
   * JSON-lines progress and tar bodies. The caller consumes it. */
  async stream(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const version = await this.apiVersion();
    const res = await this.send(method, `/v${version}${path}${encodeQuery(opts.query)}`, opts);
    await checkResponse(res);
    return res;
  }

  /** POSTs with `Connection: Upgrade` and `Upgrade: tcp` on a connection of
   * its own, as docker's client does for attach and exec start, and gives
   * the raw socket once the daemon answers 101. An error status throws the
   * daemon's message; any other answer is docker's "unable to upgrade". */
  async hijack(path: string, opts: RequestOptions = {}): Promise<HijackedConnection> {
    const version = await this.apiVersion();
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...opts.headers, Connection: 'Upgrade', Upgrade: 'tcp' };
    let body: Buffer | undefined;
    if (opts.body !== undefined) {
      body = Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
      headers['Content-Type'] ??= 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const full = `/v${version}${path}${encodeQuery(opts.query)}`;
    this.debug?.(`POST ${full} (upgrade)`);
    const { request } = await this.getTransport();
    return new Promise<HijackedConnection>((resolve, reject) => {
      const req = request({ ...this.endpoint(), ...this.tlsRequestOptions(), method: 'POST', path: full, headers, agent: false, signal: opts.signal });
      req.on('error', (err) => reject(this.connectionError(err)));
      req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        resolve({
          socket,
          mediaType: header(res.headers, 'content-type') ?? '',
          closeWrite: () => {
            if (!socket.destroyed && socket.writable) socket.end();
          },
          close: () => socket.destroy(),
        });
      });
      req.on('response', (res: IncomingMessage) => {
        checkResponse(res).then(
          () => {
            res.resume();
            reject(new JoeyError('internal', `unable to upgrade to tcp, received ${res.statusCode}`));
          },
          reject,
        );
      });
      req.end(body);
    });
  }

  /** Drops pooled connections so the process can exit. */
  close(): void {
    this.agent?.destroy();
  }

  private async send(method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> {
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...opts.headers };
    let body: Buffer | Readable | undefined;
    const b = opts.body;
    if (b instanceof Readable) {
      body = b;
      headers['Content-Type'] ??= 'application/octet-stream';
    } else if (Buffer.isBuffer(b) || b instanceof Uint8Array) {
      body = Buffer.from(b);
      headers['Content-Type'] ??= 'application/octet-stream';
    } else if (typeof b === 'string') {
      body = Buffer.from(b);
      headers['Content-Type'] ??= 'text/plain';
    } else if (b !== undefined) {
      body = Buffer.from(JSON.stringify(b));
      headers['Content-Type'] ??= 'application/json';
    }
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    this.debug?.(`${method} ${path}`);

    const base = this.endpoint();
    const tls = this.tlsRequestOptions();
    const { request, agent } = await this.getTransport();

    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ ...base, ...tls, method, path, headers, agent, signal: opts.signal }, resolve);
      req.on('error', (err) => reject(this.connectionError(err)));
      if (body instanceof Readable) {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      } else {
        req.end(body);
      }
    });
  }

  private endpoint(): { socketPath?: string; host: string; port?: number; servername?: string } {
    const t = this.target;
    // no TLS name to work out: spares the agent an isIP("localhost"), whose
    // IPv6 regexp takes milliseconds to compile
    return t.proto === 'unix' ? { socketPath: t.socketPath, host: 'localhost', servername: '' } : { host: t.hostname, port: t.port };
  }

  private tlsRequestOptions(): Record<string, unknown> {
    return this.tls ? { ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key, rejectUnauthorized: this.tls.verify } : {};
  }

  private connectionError(err: Error & { code?: string }): Error {
    if (err.name === 'AbortError') return err;
    switch (err.code) {
      case 'ENOENT':
      case 'ECONNREFUSED':
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return new ConnectionError(`Cannot connect to the joey daemon at ${this.host}. Is joeyd running?`, err);
      case 'EACCES':
      case 'EPERM':
        return new ConnectionError(
          `permission denied while trying to connect to the joey daemon socket at ${this.host}: ${err.message}`,
          err,
        );
      case 'EPROTO':
      case 'ERR_SSL_WRONG_VERSION_NUMBER':
        return new ConnectionError(`error during connect: ${err.message}\n* Is the daemon at ${this.host} using TLS?`, err);
      case 'HPE_INVALID_CONSTANT':
      case 'HPE_INVALID_VERSION':
        return new ConnectionError(
          `error during connect: ${err.message}\n* Are you trying to connect to a TLS-enabled daemon without TLS?`,
          err,
        );
      default:
        return new ConnectionError(`error during connect: ${err.message}`, err);
    }
  }
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

const ERROR_BODY_MAX = 1024 * 1024;

/** Throws an ApiError for a non-2xx response, with the daemon's message. */
export async function checkResponse(res: IncomingMessage): Promise<void> {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 400) return;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    const buf = c as Buffer;
    size += buf.length;
    if (size > ERROR_BODY_MAX) {
      res.destroy();
      throw new ApiError(status, `request returned ${statusText(status)} with a message (> ${ERROR_BODY_MAX} bytes)`);
    }
    chunks.push(buf);
  }
  const body = Buffer.concat(chunks).toString('utf8').trim();
  if (!body) {
    throw new ApiError(status, `request returned ${statusText(status)}; check if the server supports the requested API version`);
  }
  let message = body;
  if ((header(res.headers, 'content-type') ?? '').startsWith('application/json')) {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      message =
        typeof parsed?.message === 'string' && parsed.message
          ? parsed.message.trim()
          : `API returned a ${status} (${http.STATUS_CODES[status] ?? 'Unknown'}) but provided no error-message`;
    } catch {
      // not JSON after all: keep the text
    }
  }
  throw new ApiError(status, message);
}

function statusText(status: number): string {
  return `${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
}

async function readJson<T>(res: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new JoeyError('internal', `invalid JSON from the daemon: ${(err as Error).message}`, { cause: err });
  }
}
