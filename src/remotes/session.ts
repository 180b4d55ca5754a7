// Requests to one registry endpoint with everything around them: the
// scheme (https, or http for insecure hosts when https fails), the
// Authorization header and the retry after a 401, and one retry of
// idempotent requests on a connection reset.
import type { Readable } from 'node:stream';
import type { Authorizer, Credentials } from './auth.ts';
import { transportError } from './errors.ts';
import type { Endpoint, Scheme } from './hosts.ts';
import { discard, isConnectionReset, isNetworkError, type HttpResponse, type HttpTransport } from './http.ts';

export interface ClientContext {
  http: HttpTransport;
  auth: Authorizer;
  /** The scheme that worked, per host, for hosts with a fallback. */
  schemes: Map<string, Scheme>;
}

export interface SessionRequest {
  method: string;
  /** "/v2/..." on the endpoint; or `url` for an absolute one (an upload Location). */
  path?: string;
  url?: URL;
  headers?: Record<string, string>;
  body?: () => Readable | Buffer;
  /** Token scopes: "repository:library/busybox:pull". */
  scopes: string[];
  /** Small and safe to send twice (HEAD/GET, token, upload POST, manifest
   * PUT): retried once on a connection reset. Never a streamed blob body. */
  idempotent?: boolean;
  signal?: AbortSignal;
  followRedirects?: boolean;
  /** Send exactly these headers: no Authorization, no 401 handling (login's ping). */
  raw?: boolean;
}

export class Session {
  readonly ctx: ClientContext;
  readonly endpoint: Endpoint;
  readonly creds: Credentials | undefined;

  constructor(ctx: ClientContext, endpoint: Endpoint, creds: Credentials | undefined) {
    this.ctx = ctx;
    this.endpoint = endpoint;
    this.creds = creds;
  }

  get host(): string {
    return this.endpoint.host;
  }

  /** Sends a request; network failures become `unavailable` naming the host. */
  async send(req: SessionRequest): Promise<HttpResponse> {
    const ep = this.endpoint;
    const remembered = this.ctx.schemes.get(ep.host);
    const schemes: Scheme[] = req.url ? [req.url.protocol === 'http:' ? 'http' : 'https'] : remembered ? [remembered] : ep.schemes;
    let last: unknown;
    for (const scheme of schemes) {
      const url = req.url ?? new URL(`${scheme}://${ep.host}${ep.prefix}${req.path ?? '/v2/'}`);
      try {
        const res = await this.#retrying(url, req);
        if (!req.url && ep.schemes.length > 1) this.ctx.schemes.set(ep.host, scheme);
        return res;
      } catch (err) {
        // Only a failure of the connection itself means "try plain http".
        if (!isNetworkError(err) || req.signal?.aborted) throw transportError(err, ep.host);
        last = err;
      }
    }
    throw transportError(last, ep.host);
  }

  async #retrying(url: URL, req: SessionRequest): Promise<HttpResponse> {
    try {
      return await this.#authorized(url, req);
    } catch (err) {
      if (!req.idempotent || !isConnectionReset(err) || req.signal?.aborted) throw err;
      return this.#authorized(url, req);
    }
  }

  async #authorized(url: URL, req: SessionRequest): Promise<HttpResponse> {
    const { auth, http } = this.ctx;
    // Credentials go only to the endpoint's own host, never to wherever an
    // upload Location points.
    const ours = url.host === this.endpoint.host;
    const send = (authorization: string | undefined) => {
      const headers: Record<string, string> = { ...req.headers };
      if (authorization) headers.authorization = authorization;
      return http.request({
        method: req.method,
        url,
        headers,
        body: req.body,
        insecureTls: this.endpoint.insecureTls,
        signal: req.signal,
        followRedirects: req.followRedirects,
      });
    };
    if (!ours || req.raw) return send(undefined);
    const sent = await auth.authorization(this.host, this.creds, req.scopes, req.signal);
    const res = await send(sent);
    if (res.status !== 401) return res;
    const scopes = auth.learn(this.host, res.headers['www-authenticate'], sent, req.scopes);
    if (!scopes) return res;
    const next = await auth.authorization(this.host, this.creds, scopes, req.signal);
    // Nothing new to offer (no credentials for Basic): let the 401 stand.
    if (!next || next === sent) return res;
    discard(res);
    return send(next);
  }
}
