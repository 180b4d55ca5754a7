// The Docker Engine API as a Node request handler: version prefix, common
// headers, request id and log line, routing, and errors by kind.
import { randomBytes } from 'node:crypto';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Engine } from '../../engine/types.ts';
import { kindOf, unavailable } from '../../errdefs/index.ts';
import { log as rootLog, type Logger } from '../../util/log.ts';
import { registerBuildRoutes } from './build.ts';
import { registerContainerRoutes } from './containers.ts';
import { writeError, writeErrorMessage } from './errors.ts';
import { registerExecRoutes } from './exec.ts';
import { readUpgradeRequest } from './hijack.ts';
import { registerImageRoutes } from './images.ts';
import { HttpMetrics } from './metrics.ts';
import { Router, type RequestContext } from './router.ts';
import { registerSystemRoutes } from './system.ts';
import { registerVolumeRoutes } from './volumes.ts';
import { registerNetworkRoutes } from './networks.ts';
import { API_VERSION, compareApiVersions, MIN_API_VERSION } from './version.ts';

export { API_VERSION, MIN_API_VERSION };

export interface ApiOptions {
  /** For the Server header; defaults to the engine's version. */
  serverVersion?: string;
  metrics?: HttpMetrics;
  logger?: Logger;
}

/** What is read and thrown away of a refused request's body before the
 * error is written; past it the connection is closed after the error. */
const DISCARD_BYTES = 64 * 1024 * 1024;
const DISCARD_MS = 5000;

function discardBody(req: IncomingMessage): Promise<void> {
  if (req.complete || req.destroyed || req.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', done);
      req.off('close', done);
      req.off('error', done);
      req.pause();
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > DISCARD_BYTES) done();
    };
    const timer = setTimeout(done, DISCARD_MS);
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    req.resume();
  });
}

export type ApiHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  readonly metrics: HttpMetrics;
  /** For node:http's 'upgrade' event (`server.on('upgrade', handler.upgrade)`):
   * requests with `Connection: Upgrade`, which attach and exec start take
   * over. Any other route answers as usual and the connection closes. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Aborts every request in flight (streams end, pulls are cancelled) and
   * answers later requests with 503. */
  shutdown(): void;
};

const VERSIONED = /^\/v(\d+(?:\.\d+)*)(\/.*)$/;

export function createApiHandler(engine: Engine, opts: ApiOptions = {}): ApiHandler {
  const metrics = opts.metrics ?? new HttpMetrics();
  const baseLog = opts.logger ?? rootLog;
  const serverHeader = `joey/${opts.serverVersion ?? engine.system.version().Version}`;
  const router = new Router();
  registerSystemRoutes(router, { metrics });
  registerImageRoutes(router);
  registerContainerRoutes(router);
  registerExecRoutes(router);
  registerVolumeRoutes(router);
  registerNetworkRoutes(router);
  registerBuildRoutes(router);

  const inFlight = new Set<AbortController>();
  // Taken-over connections, which node:http no longer tracks or closes.
  const upgraded = new Set<Duplex>();
  let closing = false;

  const handle = (req: IncomingMessage, res: ServerResponse, upgrade?: Duplex): void => {
    const started = process.hrtime.bigint();
    const id = randomBytes(4).toString('hex');
    const reqLog = baseLog.child({ req: id });
    res.setHeader('Api-Version', API_VERSION);
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Ostype', 'linux');
    res.setHeader('Server', serverHeader);
    res.setHeader('X-Request-Id', id);

    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    let path = rawPath;
    const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
    const method = req.method ?? 'GET';
    let label = 'unmatched';

    const controller = new AbortController();
    inFlight.add(controller);
    res.on('close', () => {
      inFlight.delete(controller);
      // Closed before the response ended: the client went away.
      if (!res.writableFinished) controller.abort(unavailable('client disconnected'));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe(method, label, res.statusCode, seconds);
      // The path without the query, which may carry filters of any size.
      const line = { method, path: rawPath.slice(0, 512), status: res.statusCode, ms: Math.round(seconds * 1e4) / 10 };
      if (label === '/_ping') reqLog.debug('request', line);
      else reqLog.info('request', line);
    });

    let apiVersion = API_VERSION;
    const m = VERSIONED.exec(path);
    if (m) {
      apiVersion = m[1]!;
      path = m[2]!;
      if (compareApiVersions(apiVersion, API_VERSION) > 0) {
        writeErrorMessage(res, 400, `client version ${apiVersion} is too new. Maximum supported API version is ${API_VERSION}`);
        return;
      }
      if (compareApiVersions(apiVersion, MIN_API_VERSION) < 0) {
        writeErrorMessage(
          res,
          400,
          `client version ${apiVersion} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
        );
        return;
      }
    }

    let matched: ReturnType<Router['match']>;
    try {
      matched = router.match(method, path);
    } catch (err) {
      writeError(res, err);
      return;
    }
    if (!matched) {
      writeErrorMessage(res, 404, 'page not found');
      return;
    }
    label = matched.route.label;
    if (closing) {
      writeError(res, unavailable('daemon is shutting down'));
      return;
    }

    const ctx: RequestContext = { req, res, engine, params: matched.params, query, apiVersion, signal: controller.signal, log: reqLog, upgrade };
    const fail = (err: unknown): void => {
      if (!res.headersSent) {
        if (isServerError(err)) reqLog.error('request failed', { method, path, err });
        // Refused before its body was read (a PUT of a tar, say): take in the
        // rest first, as far as it is small, so the client, still writing,
        // reads the error rather than a broken pipe.
        discardBody(req).then(() => {
          if (res.headersSent) return;
          if (!req.complete) res.setHeader('Connection', 'close');
          writeError(res, err);
        });
      } else if (!res.writableEnded) {
        // Streaming began (a tar, say) and cannot carry an error: cut it.
        reqLog.warn('response aborted', { method, path, err });
        res.destroy();
      }
    };
    try {
      Promise.resolve(matched.route.handler(ctx)).catch(fail);
    } catch (err) {
      fail(err);
    }
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // node:http has let go of the socket: errors and closing are ours now.
    socket.on('error', (err) => baseLog.debug('upgraded connection error', { err: err.message }));
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.on('finish', () => socket.end());
    readUpgradeRequest(req, socket, head).then(
      (withBody) => handle(withBody, res, socket),
      (err: unknown) => {
        res.setHeader('Api-Version', API_VERSION);
        writeError(res, err);
      },
    );
  };

  return Object.assign((req: IncomingMessage, res: ServerResponse) => handle(req, res), {
    metrics,
    upgrade,
    shutdown(): void {
      closing = true;
      const reason = unavailable('daemon is shutting down');
      for (const c of inFlight) c.abort(reason);
      for (const s of upgraded) s.destroy();
    },
  });
}

function isServerError(err: unknown): boolean {
  const kind = kindOf(err);
  return kind === 'internal' || kind === 'data-loss';
}
