// A minimal Docker Engine API client over a unix socket, for timing an
// engine without its CLI: `runViaApi` makes the calls `docker run --rm`
// makes, minus the attach.
import { Agent, request, type IncomingMessage } from 'node:http';

/** API version both dockerd 20.10 (at most 1.41) and joeyd speak. */
const API = '/v1.41';

export interface ApiResponse {
  status: number;
  body: string;
}

export class DockerApi {
  // kept-alive connections, as the Go client pools them
  private readonly agent = new Agent({ keepAlive: true });

  constructor(readonly socketPath: string) {}

  /** Sends the request; resolves with the response once its headers arrive. */
  private send(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          socketPath: this.socketPath,
          agent: this.agent,
          method,
          path: API + path,
          headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
        },
        resolve,
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  private static read(res: IncomingMessage): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
  }

  async call(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    return DockerApi.read(await this.send(method, path, body));
  }

  /** The request once its status line is in; the body follows later (POST /wait). */
  async open(method: string, path: string): Promise<{ status: number; body: Promise<ApiResponse> }> {
    const res = await this.send(method, path);
    return { status: res.statusCode ?? 0, body: DockerApi.read(res) };
  }

  close(): void {
    this.agent.destroy();
  }
}

function expect(what: string, r: ApiResponse, ...ok: number[]): void {
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${r.body.trim().slice(0, 300)}`);
}

/**
 * What `docker run --rm --network none|bridge IMAGE ARGS` does through the API, minus
 * attaching: create, wait (its response headers in before the start, so that
 * the exit cannot be missed), start, read the wait's result. With autoRemove
 * the engine removes the container itself and the wait is for `removed` (as
 * the docker CLI asks for with --rm); without it the wait is for `next-exit`
 * and the container is deleted with DELETE /containers/{id}.
 */
export async function runViaApi(
  api: DockerApi,
  o: { name: string; image: string; args: string[]; autoRemove: boolean; network?: string; hostConfig?: Record<string, unknown> },
): Promise<void> {
  const created = await api.call('POST', `/containers/create?name=${encodeURIComponent(o.name)}`, {
    Image: o.image,
    Cmd: o.args,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    HostConfig: { NetworkMode: o.network ?? 'none', AutoRemove: o.autoRemove, ...o.hostConfig },
  });
  expect('create', created, 201);
  const id = (JSON.parse(created.body) as { Id: string }).Id;
  const wait = await api.open('POST', `/containers/${id}/wait?condition=${o.autoRemove ? 'removed' : 'next-exit'}`);
  if (wait.status !== 200) expect('wait', await wait.body, 200);
  const started = await api.call('POST', `/containers/${id}/start`);
  expect('start', started, 204);
  const result = await wait.body;
  expect('wait', result, 200);
  const exit = JSON.parse(result.body) as { StatusCode: number; Error?: { Message?: string } | null };
  if (exit.StatusCode !== 0 || exit.Error?.Message) {
    throw new Error(`container exited ${exit.StatusCode}${exit.Error?.Message ? `: ${exit.Error.Message}` : ''}`);
  }
  if (!o.autoRemove) expect('delete', await api.call('DELETE', `/containers/${id}?v=1`), 204);
}
