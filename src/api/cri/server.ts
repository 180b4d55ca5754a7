// The CRI server: runtime.v1's RuntimeService and ImageService over gRPC on
// a unix socket. grpc-js and proto-loader are loaded here, on demand, so
// that a joeyd without --cri never pays for them.
import { chmodSync, unlinkSync } from 'node:fs';
import type { Engine } from '../../engine/types.ts';
import { messageOf, unavailable } from '../../errdefs/index.ts';
import { log } from '../../util/log.ts';
import { containerHandlers } from './containers.ts';
import { grpcErrorOf } from './errors.ts';
import { execHandlers } from './exec.ts';
import type { Handlers } from './handler.ts';
import { imageHandlers } from './images.ts';
import { LOADER_OPTIONS, protoPath } from './proto.ts';
import { statusHandlers } from './runtime-status.ts';
import { sandboxHandlers } from './sandboxes.ts';
import { statsHandlers } from './stats.ts';

export const RUNTIME_HANDLERS: Handlers = { ...statusHandlers, ...sandboxHandlers, ...containerHandlers, ...execHandlers, ...statsHandlers };
export const IMAGE_HANDLERS: Handlers = imageHandlers;

const MAX_MESSAGE = 16 << 20;

export interface CriServer {
  readonly addr: string;
  /** Stops accepting, ends calls in flight after `graceMs`, removes the socket. */
  close(graceMs?: number): Promise<void>;
}

/** The service definitions of the .proto, for the server and for test clients. */
export async function loadCriDefinitions(): Promise<{ grpc: typeof import('@grpc/grpc-js'); runtime: import('@grpc/grpc-js').ServiceDefinition; image: import('@grpc/grpc-js').ServiceDefinition }> {
  const [grpc, loader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
  const def = await loader.load(protoPath(), { ...LOADER_OPTIONS });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: Record<string, { service: import('@grpc/grpc-js').ServiceDefinition }> } };
  return { grpc, runtime: pkg.runtime.v1['RuntimeService']!.service, image: pkg.runtime.v1['ImageService']!.service };
}

/** Serves the CRI on `socketPath` (which must not exist: the caller removes
 * a stale one). */
export async function startCriServer(engine: Engine, socketPath: string): Promise<CriServer> {
  const { grpc, runtime, image } = await loadCriDefinitions();
  // As containerd: 16 MiB messages (an ExecSync's output, a long listing).
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
  const implement = (def: import('@grpc/grpc-js').ServiceDefinition, handlers: Handlers, service: string) => {
    const impl: import('@grpc/grpc-js').UntypedServiceImplementation = {};
    for (const name of Object.keys(def)) {
      const fn = handlers[name];
      if (!fn) continue; // grpc-js answers UNIMPLEMENTED
      impl[name] = (call: import('@grpc/grpc-js').ServerUnaryCall<unknown, unknown>, callback: import('@grpc/grpc-js').sendUnaryData<unknown>) => {
        const started = Date.now();
        fn(engine, call.request).then(
          (res) => {
            log.debug('cri call', { rpc: `${service}/${name}`, ms: Date.now() - started });
            callback(null, res);
          },
          (err: unknown) => {
            const e = grpcErrorOf(err);
            log.debug('cri call failed', { rpc: `${service}/${name}`, code: e.code, err: e.details });
            callback(e as unknown as import('@grpc/grpc-js').ServiceError);
          },
        );
      };
    }
    server.addService(def, impl);
  };
  implement(runtime, RUNTIME_HANDLERS, 'RuntimeService');
  implement(image, IMAGE_HANDLERS, 'ImageService');

  const addr = `unix://${socketPath}`;
  const old = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
  } catch (err) {
    server.forceShutdown();
    throw unavailable(`cannot serve the CRI on ${addr}: ${messageOf(err)}`, err);
  } finally {
    process.umask(old);
  }
  chmodSync(socketPath, 0o660);

  let closing: Promise<void> | undefined;
  return {
    addr,
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }).then(() => {
        try {
          unlinkSync(socketPath);
        } catch {
          // already gone
        }
      });
      return closing;
    },
  };
}
