// A fake Docker Engine API on a unix socket in a temp dir, for tests: canned
// answers per route, and a record of what was asked. Also good for pointing
// the real docker CLI at, to get its output for the same answers.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

export interface FakeApi {
  socketPath: string;
  host: string;
  requests: RecordedRequest[];
  /** How many times /_ping was asked. */
  readonly pings: number;
  /** Adds routes; later routes win over earlier ones. */
  route(method: string, path: string | RegExp, handler: Handler): void;
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

export async function startFakeApi(opts: { apiVersion?: string; routes?: Route[] } = {}): Promise<FakeApi> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joey-fake-api-'));
  const socketPath = path.join(dir, 'api.sock');
  const apiVersion = opts.apiVersion ?? '1.47';
  const routes: Route[] = [...(opts.routes ?? [])];
  const requests: RecordedRequest[] = [];
  let pings = 0;

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(m ? m[2]! : url.pathname),
        version: m?.[1],
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
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
        if (r.method !== rec.method) continue;
        if (typeof r.path === 'string' ? r.path !== rec.path : !r.path.test(rec.path)) continue;
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
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
