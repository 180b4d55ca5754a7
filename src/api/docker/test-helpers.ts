// For tests: the API handler on a unix socket in a temp dir, and a client.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
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
