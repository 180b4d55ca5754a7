// A small CRI client over a unix socket, for tests (and tools): each RPC as
// a promise of the decoded response; a failed call rejects with the gRPC
// error (its `code` and `details`).
import { loadCriDefinitions } from './server.ts';

export interface CriClient {
  runtime(rpc: string, req?: object, opts?: { timeoutMs?: number }): Promise<any>;
  image(rpc: string, req?: object, opts?: { timeoutMs?: number }): Promise<any>;
  close(): void;
}

export async function connectCri(socketPath: string): Promise<CriClient> {
  const { grpc, runtime, image } = await loadCriDefinitions();
  const target = `unix://${socketPath}`;
  const creds = grpc.credentials.createInsecure();
  const Runtime = grpc.makeGenericClientConstructor(runtime, 'RuntimeService');
  const Image = grpc.makeGenericClientConstructor(image, 'ImageService');
  const rt = new Runtime(target, creds) as unknown as Record<string, Function>;
  const im = new Image(target, creds) as unknown as Record<string, Function>;
  const call = (client: Record<string, Function>, rpc: string, req: object = {}, opts: { timeoutMs?: number } = {}) =>
    new Promise<any>((resolve, reject) => {
      const fn = client[rpc];
      if (!fn) return reject(new Error(`no such RPC: ${rpc}`));
      fn.call(client, req, { deadline: Date.now() + (opts.timeoutMs ?? 60_000) }, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res)));
    });
  return {
    runtime: (rpc, req, opts) => call(rt, rpc, req, opts),
    image: (rpc, req, opts) => call(im, rpc, req, opts),
    close() {
      (rt as unknown as { close(): void }).close();
      (im as unknown as { close(): void }).close();
    },
  };
}
