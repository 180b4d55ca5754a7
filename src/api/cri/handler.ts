// The shape of an RPC handler: decode (done by the gRPC layer), one engine
// call, the response message as a plain object.
import type { Engine } from '../../engine/types.ts';

// Requests arrive decoded with LOADER_OPTIONS (proto.ts): every field set,
// messages left out by the client as null.
export type Handler = (engine: Engine, req: any) => Promise<object>;
export type Handlers = Record<string, Handler>;
