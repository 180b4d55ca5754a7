// HTTP to peers and to the tracker: small, with the secret, keep-alive, and
// an idle timeout so that a stalled peer is left quickly for the next one.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { invalid, messageOf, unavailable } from '../errdefs/index.ts';
import { ANNOUNCE_PATH, BLOB_PREFIX, PEERS_PATH } from './server.ts';
import { bearer } from './secret.ts';
import type { Announce } from './tracker.ts';

export interface P2PHttpOptions {
  secret: string;
  /** Idle timeout: connect, headers, and any gap in a body (ms). */
  timeoutMs?: number;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

export class P2PClient {
  readonly #agents = { http: new http.Agent({ keepAlive: true, timeout: 4_000 }), https: new https.Agent({ keepAlive: true, timeout: 4_000 }) };
  readonly #auth: string;
  readonly #timeoutMs: number;

  constructor(opts: P2PHttpOptions) {
    this.#auth = bearer(opts.secret);
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  request(method: string, url: URL, opts: { headers?: Record<string, string>; body?: Buffer; signal?: AbortSignal } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const mod = url.protocol === 'https:' ? https : http;
      const headers: Record<string, string> = { authorization: this.#auth, ...opts.headers };
      if (opts.body) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(opts.body.length);
      }
      const req = mod.request(url, {
        method,
        headers,
        agent: url.protocol === 'https:' ? this.#agents.https : this.#agents.http,
        timeout: this.#timeoutMs,
        signal: opts.signal,
      });
      let res: http.IncomingMessage | undefined;
      req.on('timeout', () => {
        const err = Object.assign(new Error(`no answer from ${url.host} for ${this.#timeoutMs} ms`), { code: 'ETIMEDOUT' });
        if (res) res.destroy(err);
        else req.destroy(err);
      });
      req.on('error', reject);
      req.on('response', (r) => {
        res = r;
        resolve({ status: r.statusCode ?? 0, headers: r.headers, body: r });
      });
      req.end(opts.body);
    });
  }

  async #json(method: string, url: URL, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    let a: Answer;
    try {
      a = await this.request(method, url, { ...(body !== undefined ? { body: Buffer.from(JSON.stringify(body)) } : {}), signal });
    } catch (err) {
      throw unavailable(`p2p tracker ${url.host}: ${messageOf(err)}`, err);
    }
    const text = await readSmall(a.body, 4 << 20).catch((err: unknown) => {
      throw unavailable(`p2p tracker ${url.host}: ${messageOf(err)}`, err);
    });
    if (a.status === 204) return undefined;
    if (a.status !== 200) throw unavailable(`p2p tracker ${url.host} answered ${a.status}: ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw unavailable(`p2p tracker ${url.host} answered with something that is not JSON`);
    }
  }

  /** Peers that hold `digest`, as the tracker at `tracker` knows them. */
  async peers(tracker: string, digest: string, self: string | undefined, signal?: AbortSignal): Promise<string[]> {
    const url = new URL(tracker + PEERS_PATH);
    url.searchParams.set('digest', digest);
    if (self) url.searchParams.set('self', self);
    const body = (await this.#json('GET', url, undefined, signal)) as { peers?: unknown } | undefined;
    const peers = body?.peers;
    if (!Array.isArray(peers)) throw unavailable(`p2p tracker ${url.host} answered without a list of peers`);
    return peers.filter((p): p is string => typeof p === 'string' && /^https?:\/\//.test(p));
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
    let a: Answer;
    try {
      a = await this.request('GET', url, { headers: whole ? {} : { range: `bytes=${start}-${end}` }, signal });
    } catch (err) {
      throw unavailable(`peer ${peer}: ${messageOf(err)}`, err);
    }
    const fail = (why: string) => {
      a.body.resume();
      a.body.on('error', () => undefined);
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
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }
}

async function readSmall(r: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of r) {
    n += (c as Buffer).length;
    if (n > limit) {
      r.destroy();
      throw new Error(`answer larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
