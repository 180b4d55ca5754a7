// Exec endpoints: create, start (detached, or streamed through hijack.ts as
// attach is), resize and inspect.
import type { AttachSession } from '../../engine/containers/types.ts';
import { internal, invalid, messageOf } from '../../errdefs/index.ts';
import { decodeExecConfig, decodeExecStart } from './bodies.ts';
import { parseDetachKeys, streamSession } from './hijack.ts';
import { queryInt, readJson, sendEmpty, sendJson } from './http.ts';
import type { RequestContext, Router } from './router.ts';

export function registerExecRoutes(r: Router): void {
  r.add('POST', '/containers/{id}/exec', create);
  r.add('POST', '/exec/{id}/start', start);
  r.add('POST', '/exec/{id}/resize', resize);
  r.add('GET', '/exec/{id}/json', inspect);
}

async function create({ engine, params, req, res }: RequestContext): Promise<void> {
  const cfg = decodeExecConfig(await readJson(req));
  const { Id } = await engine.containers.execCreate(params.id!, cfg);
  sendJson(res, 201, { Id });
}

async function start(ctx: RequestContext): Promise<void> {
  const { engine, params, req, res } = ctx;
  const opts = decodeExecStart(await readJson(req));
  let session: AttachSession | undefined;
  try {
    session = await engine.containers.execStart(params.id!, opts);
  } catch (e) {
    // As dockerd: once the process was tried (a missing command, a runtime
    // error), an attached client gets the message on its stream and the
    // exit code (126/127) from exec inspect; earlier errors keep their status.
    const tried = !opts.Detach && (await engine.containers.execInspect(params.id!).catch(() => undefined))?.ExitCode != null;
    if (!tried) throw e;
    session = messageSession(`${messageOf(e)}\r\n`, !!opts.Tty);
  }
  if (opts.Detach) return sendEmpty(res, 200);
  if (!session) throw internal(`exec ${params.id} started without a session to attach to`);
  // The exec's own DetachKeys are the engine's to know; the adapter watches
  // for the default ones (with a tty only, as for attach).
  await streamSession(ctx, session, { stdin: true, detachKeys: parseDetachKeys(undefined) });
}

async function resize({ engine, params, query, res }: RequestContext): Promise<void> {
  const h = queryInt(query, 'h', { min: 0 });
  const w = queryInt(query, 'w', { min: 0 });
  if (h === undefined || w === undefined) throw invalid('h and w are required');
  await engine.containers.execResize(params.id!, h, w);
  sendEmpty(res, 200);
}

async function inspect({ engine, params, res }: RequestContext): Promise<void> {
  sendJson(res, 200, await engine.containers.execInspect(params.id!));
}

/** A session whose only output is one message on stdout. */
function messageSession(text: string, tty: boolean): AttachSession {
  return {
    tty,
    output: (async function* () {
      yield { stream: 1 as const, data: Buffer.from(text) };
    })(),
    close: () => undefined,
  };
}
