// A fake Docker Engine API on a unix socket in a temp dir, for tests: canned
// answers per route, and a record of what was asked. Also good for pointing
// the real docker CLI at, to get its output for the same answers.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RecordedRequest {
  method: string;
  /** Path without the /vX.Y prefix. */
  path: string;
  /** The /vX.Y prefix's version, if any. */
  version?: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => unknown;

export interface Route {
  method: string;
  /** Exact path, or a pattern tested against the unversioned path. */
  path: string | RegExp;
  handler: Handler;
}

/** Answers a hijack request (attach, exec start). The 101 is not yet sent:
 * call `upgraded(socket)` to send docker's, or write an error of your own. */
export type UpgradeHandler = (req: RecordedRequest, socket: Socket) => unknown;

export interface UpgradeRoute {
  method: string;
  path: string | RegExp;
  upgrade: UpgradeHandler;
}

/** Writes dockerd's 101 answer; `multiplexed` picks the stream's media type. */
export function upgraded(socket: Socket, multiplexed = true): void {
  const type = multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
}

/** An ordinary HTTP answer to a hijack request: an error as dockerd sends one. */
export function rawAnswer(socket: Socket, status: number, body: string, type = 'application/json'): void {
  const payload = Buffer.from(body);
  socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${payload.length}\r\n\r\n`), payload]));
}

export const upgradeError =
  (status: number, message: string): UpgradeHandler =>
  (_req, socket) =>
    rawAnswer(socket, status, JSON.stringify({ message }) + '\n');

export interface FakeApi {
  socketPath: string;
  host: string;
  requests: RecordedRequest[];
  /** How many times /_ping was asked. */
  readonly pings: number;
  /** Adds routes; later routes win over earlier ones. */
  route(method: string, path: string | RegExp, handler: Handler): void;
  /** Adds a route for hijacked (Upgrade: tcp) requests. */
  upgrade(method: string, path: string | RegExp, handler: UpgradeHandler): void;
  close(): Promise<void>;
}

export const json =
  (body: unknown, status = 200, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

/** An error as dockerd sends one. */
export const apiError = (status: number, message: string): Handler => json({ message }, status);

/** A JSON-lines progress stream, one object per line. */
export const jsonLines =
  (items: unknown[]): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const item of items) res.write(JSON.stringify(item) + '\r\n');
    res.end();
  };

const matches = (r: { method: string; path: string | RegExp }, rec: RecordedRequest) =>
  r.method === rec.method && (typeof r.path === 'string' ? r.path === rec.path : r.path.test(rec.path));

function record(req: IncomingMessage, body: Buffer): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://fake');
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
  return {
    method: req.method ?? 'GET',
    path: decodeURIComponent(m ? m[2]! : url.pathname),
    version: m?.[1],
    query: url.searchParams,
    headers: req.headers,
    body,
  };
}

export async function startFakeApi(opts: { apiVersion?: string; routes?: Route[]; upgrades?: UpgradeRoute[] } = {}): Promise<FakeApi> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joey-fake-api-'));
  const socketPath = path.join(dir, 'api.sock');
  const apiVersion = opts.apiVersion ?? '1.47';
  const routes: Route[] = [...(opts.routes ?? [])];
  const upgrades: UpgradeRoute[] = [...(opts.upgrades ?? [])];
  const hijacked = new Set<Socket>();
  const requests: RecordedRequest[] = [];
  let pings = 0;

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec = record(req, Buffer.concat(chunks));
      res.setHeader('Api-Version', apiVersion);
      res.setHeader('Ostype', 'linux');
      res.setHeader('Server', 'Joey/0.1.0 (linux)');
      if (rec.path === '/_ping') {
        pings++;
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(rec.method === 'HEAD' ? undefined : 'OK');
        return;
      }
      requests.push(rec);
      for (let i = routes.length - 1; i >= 0; i--) {
        const r = routes[i]!;
        if (!matches(r, rec)) continue;
        Promise.resolve(r.handler(rec, res)).catch((err: unknown) => {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ message: String(err) }));
        });
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `page not found` }));
    });
  });

  // A hijack request's body (exec start's JSON) arrives after the headers,
  // in `head` and on the socket: read Content-Length bytes of it first.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    hijacked.add(socket);
    socket.on('close', () => hijacked.delete(socket));
    socket.on('error', () => {});
    const want = Number(req.headers['content-length'] ?? 0);
    let buf = head;
    const ready = () => {
      socket.removeListener('data', onData);
      socket.pause();
      const rec = record(req, buf.subarray(0, want));
      const rest = buf.subarray(want);
      if (rest.length > 0) socket.unshift(rest);
      requests.push(rec);
      const r = [...upgrades].reverse().find((u) => matches(u, rec));
      if (!r) {
        rawAnswer(socket, 404, '{"message":"page not found"}\n');
        return;
      }
      Promise.resolve(r.upgrade(rec, socket)).catch(() => socket.destroy());
    };
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= want) ready();
    };
    if (buf.length >= want) ready();
    else socket.on('data', onData);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });

  return {
    socketPath,
    host: `unix://${socketPath}`,
    requests,
    get pings() {
      return pings;
    },
    route(method, p, handler) {
      routes.push({ method, path: p, handler });
    },
    upgrade(method, p, handler) {
      upgrades.push({ method, path: p, upgrade: handler });
    },
    async close() {
      for (const s of hijacked) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
