// The API listeners: unix sockets (mode 0660, group-owned, never world
// writable; a stale socket file is replaced only when nothing answers on it)
// and TCP, which is allowed only behind TLS.
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { conflict, invalid, messageOf, unavailable } from '../errdefs/index.ts';
import type { ListenerSpec, TlsSettings } from './config.ts';

export interface Listener {
  readonly addr: string;
  readonly server: Server;
  /** Stops accepting, closes idle keep-alive connections, waits up to
   * `graceMs` for requests in flight, then cuts the rest. Removes the socket
   * file. */
  close(graceMs?: number): Promise<void>;
}

export interface ListenOptions {
  tls?: TlsSettings;
  /** Group name or gid for unix sockets. */
  group?: string;
  /** A named group must exist; the default one is used only if it does. */
  groupExplicit?: boolean;
  /** For tests. */
  groupFile?: string;
}

/** A request handler, with one for connections that ask to be upgraded
 * (the Docker API's attach and exec start take them over). */
export type ApiRequestHandler = RequestListener & { upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void };

const SERVER_OPTIONS = {
  // Loads and imports upload for as long as they take; streaming responses
  // (events, pulls) are not bounded by these either.
  requestTimeout: 0,
};

export async function listen(spec: ListenerSpec, handler: ApiRequestHandler, opts: ListenOptions = {}): Promise<Listener> {
  return spec.kind === 'unix' ? listenUnix(spec.path, spec.addr, handler, opts) : listenTcp(spec, handler, opts);
}

async function listenUnix(path: string, addr: string, handler: ApiRequestHandler, opts: ListenOptions): Promise<Listener> {
  const gid = socketGid(opts);
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  await removeStaleSocket(path);
  const server = createHttpServer(SERVER_OPTIONS, handler);
  if (handler.upgrade) server.on('upgrade', handler.upgrade);
  // bind(2) creates the file with the umask applied: make it 0660 from the
  // first instant rather than fixing the mode afterwards. listen() binds
  // synchronously, so the process-wide umask is changed only for that call.
  const old = process.umask(0o117);
  let bound: Promise<void>;
  try {
    bound = startListening(server, () => server.listen(path));
  } finally {
    process.umask(old);
  }
  try {
    await bound;
    chmodSync(path, 0o660);
    if (gid !== undefined) chownSync(path, process.getuid?.() ?? 0, gid);
  } catch (err) {
    server.close();
    throw unavailable(`cannot listen on ${addr}: ${messageOf(err)}`, err);
  }
  return makeListener(addr, server, path);
}

async function listenTcp(spec: Extract<ListenerSpec, { kind: 'tcp' }>, handler: ApiRequestHandler, opts: ListenOptions): Promise<Listener> {
  const tls = opts.tls;
  if (!tls) throw invalid('binding to tcp without TLS is insecure, use --tlsverify');
  let creds: { cert: Buffer; key: Buffer; ca?: Buffer };
  try {
    creds = { cert: readFileSync(tls.cert), key: readFileSync(tls.key), ...(tls.cacert ? { ca: readFileSync(tls.cacert) } : {}) };
  } catch (err) {
    throw invalid(`cannot load TLS files: ${messageOf(err)}`, err);
  }
  const server = createHttpsServer({
    ...SERVER_OPTIONS,
    ...creds,
    minVersion: 'TLSv1.2',
    // --tlsverify: only clients with a certificate signed by the CA get in.
    requestCert: tls.verify,
    rejectUnauthorized: tls.verify,
  }, handler);
  if (handler.upgrade) server.on('upgrade', handler.upgrade);
  try {
    await startListening(server, () => server.listen(spec.port, spec.host));
  } catch (err) {
    throw unavailable(`cannot listen on ${spec.addr}: ${messageOf(err)}`, err);
  }
  return makeListener(spec.addr, server);
}

function startListening(server: Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
    start();
  });
}

function makeListener(addr: string, server: Server, socketPath?: string): Listener {
  let closing: Promise<void> | undefined;
  return {
    addr,
    server,
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }).then(() => {
        if (socketPath) {
          try {
            unlinkSync(socketPath);
          } catch {
            // already gone
          }
        }
      });
      return closing;
    },
  };
}

/** Removes a leftover socket file from a daemon that died, but refuses when
 * a live daemon still answers on it. `flag` names the setting in messages. */
export async function removeStaleSocket(path: string, flag = '-H'): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw conflict(`${path} exists and is not a socket; remove it or choose another ${flag}`);
  const state = await probeUnixSocket(path);
  if (state === 'alive') throw conflict(`another daemon is already listening on ${path}`);
  if (state === 'stale') unlinkSync(path);
}

/** 'alive' when something accepts a connection on the socket, 'stale' when
 * the file is there but nobody listens, 'absent' when there is no file. */
export function probeUnixSocket(path: string): Promise<'alive' | 'stale' | 'absent'> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve('alive');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') resolve('stale');
      else if (err.code === 'ENOENT') resolve('absent');
      else reject(err);
    });
  });
}

function socketGid(opts: ListenOptions): number | undefined {
  if (!opts.group) return undefined;
  const gid = lookupGroup(opts.group, opts.groupFile);
  if (gid === undefined && opts.groupExplicit) throw invalid(`group ${opts.group} not found`);
  return gid;
}

/** A group's gid from /etc/group (or a number given as is). Read directly:
 * no getgrnam in Node, and no reason to spawn a program for it. */
export function lookupGroup(name: string, groupFile = '/etc/group'): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [gname, , gid] = line.split(':');
    if (gname === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}
