// For tests: the API handler on a unix socket in a temp dir, and a client.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Engine } from '../../engine/types.ts';
import { createApiHandler, type ApiHandler, type ApiOptions } from './server.ts';

export interface TestServer {
  socket: string;
  dir: string;
  handler: ApiHandler;
  server: Server;
  request(method: string, path: string, opts?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json(): unknown;
  /** The body as JSON lines. */
  lines(): unknown[];
}

export async function startTestServer(engine: Engine, opts: ApiOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'joey-api-'));
  const socket = join(dir, 'api.sock');
  const handler = createApiHandler(engine, opts);
  const server = createServer(handler);
  server.on('upgrade', handler.upgrade);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    dir,
    handler,
    server,
    request: (method, path, o = {}) => requestUnix(socket, method, path, o),
    async close() {
      handler.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function requestUnix(
  socketPath: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          json: () => JSON.parse(body),
          lines: () =>
            body
              .split('\n')
              .filter((l) => l !== '')
              .map((l) => JSON.parse(l)),
        });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface RawResponse {
  status: number;
  statusText: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  socket: Socket;
  /** Bytes after the response head, and all that arrive later. */
  readonly received: Buffer;
  /** Resolves once `received` satisfies `pred` (or rejects after a while). */
  until(pred: (buf: Buffer) => boolean, ms?: number): Promise<Buffer>;
  /** Resolves when the server has ended its side. */
  readonly ended: Promise<void>;
}

/** An HTTP/1.1 request written by hand on a unix socket, as the docker CLI
 * does for attach and exec start, answered by a 101 and then raw bytes. */
export function rawRequest(
  socketPath: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; upgrade?: boolean } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.from(opts.body);
    const headers: Record<string, string> = { Host: 'docker', 'Content-Length': String(body.length), ...opts.headers };
    if (opts.upgrade !== false) Object.assign(headers, { Connection: 'Upgrade', Upgrade: 'tcp' });
    const head = [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
    sock.write(Buffer.concat([Buffer.from(head), body]));
    let buf = Buffer.alloc(0);
    let res: RawResponse | undefined;
    const watchers = new Set<() => void>();
    let endResolve: () => void;
    const ended = new Promise<void>((r) => (endResolve = r));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!res) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        const [statusLine, ...lines] = buf.subarray(0, i).toString().split('\r\n');
        const m = /^HTTP\/1\.1 (\d{3}) ?(.*)$/.exec(statusLine!);
        if (!m) return reject(new Error(`bad status line: ${statusLine}`));
        const hdrs: Record<string, string> = {};
        for (const l of lines) {
          const c = l.indexOf(':');
          hdrs[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
        }
        buf = buf.subarray(i + 4);
        res = {
          status: Number(m[1]),
          statusText: m[2]!,
          headers: hdrs,
          socket: sock,
          get received() {
            return buf;
          },
          until(pred, ms = 5000) {
            return new Promise((ok, fail) => {
              const check = (): void => {
                if (pred(buf)) {
                  watchers.delete(check);
                  clearTimeout(timer);
                  ok(buf);
                }
              };
              const timer = setTimeout(() => {
                watchers.delete(check);
                fail(new Error(`timed out; received ${JSON.stringify(buf.toString())}`));
              }, ms);
              watchers.add(check);
              check();
            });
          },
          ended,
        };
        resolve(res);
      }
      for (const w of [...watchers]) w();
    });
    sock.on('end', () => endResolve());
    sock.on('close', () => endResolve());
    sock.on('error', reject);
  });
}

/** Splits a multiplexed stream into [stream, text] frames. */
export function demux(buf: Buffer): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    if (i + 8 + len > buf.length) break;
    out.push([buf[i]!, buf.subarray(i + 8, i + 8 + len).toString()]);
    i += 8 + len;
  }
  return out;
}
