// HTTP to peers and to the tracker, on the registry client's transport
// (keep-alive agents, an idle timeout, aborts), with the fleet secret. The
// idle timeout is what bounds every wait on a peer: a stalled peer, or a
// partial holder whose own download stalled, is left for the next source.
import type { Readable } from 'node:stream';
import { invalid, messageOf, unavailable } from '../errdefs/index.ts';
import { discard, HttpTransport, readBody, type HttpResponse } from '../remotes/http.ts';
import { ANNOUNCE_PATH, BLOB_PREFIX, JOIN_PATH, PEERS_PATH } from './server.ts';
import { bearer } from './secret.ts';
import type { Announce, Holders } from './tracker.ts';

export interface P2PHttpOptions {
  secret: string;
  /** Idle timeout: connect, headers, and any gap in a body (ms). */
  timeoutMs?: number;
}

export const DEFAULT_IDLE_MS = 10_000;

export class P2PClient {
  readonly #http: HttpTransport;
  readonly #auth: string;

  constructor(opts: P2PHttpOptions) {
    this.#auth = bearer(opts.secret);
    this.#http = new HttpTransport('joey-p2p', opts.timeoutMs ?? DEFAULT_IDLE_MS);
  }

  request(method: string, url: URL, opts: { headers?: Record<string, string>; body?: Buffer; signal?: AbortSignal } = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { authorization: this.#auth, ...opts.headers };
    const body = opts.body;
    if (body) headers['content-type'] = 'application/json';
    // No redirects: a peer or tracker has no reason to send one, and following
    // it would carry the secret elsewhere.
    return this.#http.request({ method, url, headers, ...(body ? { body: () => body } : {}), signal: opts.signal, followRedirects: false });
  }

  async #json(method: string, url: URL, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const fail = (why: string, err?: unknown) => unavailable(`p2p tracker ${url.host}: ${why}`, err);
    let a: HttpResponse;
    try {
      a = await this.request(method, url, { ...(body !== undefined ? { body: Buffer.from(JSON.stringify(body)) } : {}), signal });
    } catch (err) {
      throw fail(messageOf(err), err);
    }
    const text = (await readBody(a.body, 4 << 20).catch((err: unknown) => {
      throw fail(messageOf(err), err);
    })).toString('utf8');
    if (a.status === 204) return undefined;
    if (a.status !== 200) throw unavailable(`p2p tracker ${url.host} answered ${a.status}: ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw unavailable(`p2p tracker ${url.host} answered with something that is not JSON`);
    }
  }

  /** Who holds `digest`, as the tracker at `tracker` knows it. */
  async holders(tracker: string, digest: string, self: string | undefined, signal?: AbortSignal): Promise<Holders> {
    const url = new URL(tracker + PEERS_PATH);
    url.searchParams.set('digest', digest);
    if (self) url.searchParams.set('self', self);
    return parseHolders(url, await this.#json('GET', url, undefined, signal));
  }

  /** Tells the tracker that `peer` is downloading `digest` (and serves it
   * meanwhile); answers whom to take it from. */
  async join(tracker: string, peer: string, digest: string, signal?: AbortSignal): Promise<Holders> {
    const url = new URL(tracker + JOIN_PATH);
    return parseHolders(url, await this.#json('POST', url, { peer, digest }, signal));
  }

  async announce(tracker: string, a: Announce): Promise<void> {
    await this.#json('POST', new URL(tracker + ANNOUNCE_PATH), a);
  }

  /** GET a blob from a peer, from byte `start` to `end` (inclusive, default
   * the last). Resolves with the body once the status and headers say that
   * exactly those bytes follow; anything else is an `unavailable` error. */
  async blob(peer: string, digest: string, size: number, start: number, end: number = size - 1, signal?: AbortSignal): Promise<Readable> {
    if (start < 0 || end < start || end >= size) throw invalid(`bad range ${start}-${end} of a ${size}-byte blob`);
    const url = new URL(peer + BLOB_PREFIX + digest);
    const whole = start === 0 && end === size - 1;
    let a: HttpResponse;
    try {
      a = await this.request('GET', url, { headers: whole ? {} : { range: `bytes=${start}-${end}` }, signal });
    } catch (err) {
      throw unavailable(`peer ${peer}: ${messageOf(err)}`, err);
    }
    const fail = (why: string) => {
      discard(a);
      return unavailable(`peer ${peer}: ${why}`);
    };
    if (a.status === 200 && !whole) throw fail('ignored the Range request');
    if (a.status !== 200 && a.status !== 206) throw fail(`answered ${a.status} for ${digest}`);
    if (a.status === 206) {
      const cr = String(a.headers['content-range'] ?? '');
      if (cr !== `bytes ${start}-${end}/${size}`) throw fail(`answered bytes ${start}-${end} of ${digest} with Content-Range ${JSON.stringify(cr)}`);
    }
    const len = Number(a.headers['content-length']);
    if (a.headers['content-length'] === undefined || len !== end - start + 1) {
      throw fail(`announced ${a.headers['content-length'] ?? 'no'} bytes for ${end - start + 1} wanted of ${digest}`);
    }
    return a.body;
  }

  close(): void {
    this.#http.close();
  }
}

function parseHolders(url: URL, body: unknown): Holders {
  const b = body as { peers?: unknown; partial?: unknown } | undefined;
  if (!Array.isArray(b?.peers)) throw unavailable(`p2p tracker ${url.host} answered without a list of peers`);
  const urls = (v: unknown): string[] => (Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string' && /^https?:\/\//.test(p)) : []);
  // An older tracker has no "partial": nobody is followed then.
  return { peers: urls(b.peers), partial: urls(b.partial) };
}
